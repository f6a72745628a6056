import type { RedisConnection } from '../redis/redis-connection.js'
import type { RedisLogger } from '../redis/redis-connection-state.js'
import { newReplicaName, RelayUnconfirmedError, type Broker, type BrokerHandlers, type ClusterEvent, type ReplicaNotice, type ReplicaReply, type ReplicaRequest } from './broker.js'

export interface RedisBrokerOptions {
  /** A replica without a heartbeat for this long counts as dead (ms). */
  livenessMs: number
  /** How long a relayed request may wait for the replica's verdict (ms). */
  requestTimeoutMs: number
  logger: RedisLogger
}

/** What travels on a replica's own channel. */
type Envelope =
  | { t: 'req', id: string, from: string, body: ReplicaRequest }
  | { t: 'res', id: string, body: ReplicaReply }
  | { t: 'note', body: ReplicaNotice }

interface Waiting {
  resolve: (reply: ReplicaReply) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
}

/**
 * The message path between replicas over Redis pub/sub: each replica listens on its own channel (requests, their
 * replies, notices) and on one channel for all (events), through the process's single subscriber connection. A
 * heartbeat key per replica, refreshed at a third of the liveness window, tells the others it is alive; `PUBLISH`
 * counting no receiver tells a sender at once that the replica it wants is gone.
 */
export async function createRedisBroker (redis: RedisConnection, options: RedisBrokerOptions): Promise<Broker & { beat: () => Promise<void> }> {
  const replica = newReplicaName()
  const ownChannel = redis.keys.channel('replica', replica)
  const allChannel = redis.keys.channel('all')
  const heartbeatKey = (name: string): string => redis.keys.key('replica', name)
  const waiting = new Map<string, Waiting>()
  let lastRequest = 0
  let requestHandler: BrokerHandlers['request'] | undefined
  const noticeHandlers: Array<BrokerHandlers['notice']> = []
  const eventHandlers: Array<BrokerHandlers['event']> = []
  const log = options.logger

  async function reply (to: string, id: string, body: ReplicaReply): Promise<void> {
    const envelope: Envelope = { t: 'res', id, body }
    await redis.publish(redis.keys.channel('replica', to), JSON.stringify(envelope))
  }

  function onOwnMessage (text: string): void {
    const envelope = JSON.parse(text) as Envelope
    if (envelope.t === 'res') {
      const pending = waiting.get(envelope.id)
      if (pending === undefined) return
      waiting.delete(envelope.id)
      clearTimeout(pending.timer)
      pending.resolve(envelope.body)
    } else if (envelope.t === 'req') {
      const handle = requestHandler
      const answer = handle === undefined
        ? Promise.resolve<ReplicaReply>({ status: 404 })
        : handle(envelope.body)
      answer
        .catch((error: unknown): ReplicaReply => {
          log.error({ err: error, kind: envelope.body.kind }, 'A request relayed from another replica failed')
          return { status: 500, error: { code: -32603, message: 'Internal error while handling the relayed message; the failure was logged on the server', id: null } }
        })
        .then(async (body) => { await reply(envelope.from, envelope.id, body) })
        .catch((error: unknown) => { log.warn({ err: error }, 'Could not send a verdict back to the replica that relayed a message') })
    } else {
      for (const handler of noticeHandlers) handler(envelope.body)
    }
  }

  function onEvent (text: string): void {
    const { from, body } = JSON.parse(text) as { from: string, body: ClusterEvent }
    if (from === replica) return
    for (const handler of eventHandlers) handler(body)
  }

  async function beat (): Promise<void> {
    await redis.commands.set(heartbeatKey(replica), '1', 'PX', options.livenessMs)
  }

  await redis.subscribe(ownChannel, onOwnMessage)
  await redis.subscribe(allChannel, onEvent)
  await beat()

  return {
    replica,
    get connected () { return redis.state === 'up' },
    beat,
    async isAlive (name) {
      if (name === replica) return true
      return await redis.commands.exists(heartbeatKey(name)) === 1
    },
    async request (to, request) {
      // Our own channel is subscribed only while the connection is up: a reply sent now could be lost.
      if (redis.state !== 'up') throw new Error('Redis is unreachable: a relayed message could not be answered')
      // Unique among this replica's waiting requests is enough: replies come back on its own channel.
      const id = String(++lastRequest)
      const answered = new Promise<ReplicaReply>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id)
          reject(new RelayUnconfirmedError(to, `no verdict within ${options.requestTimeoutMs} ms`))
        }, options.requestTimeoutMs)
        waiting.set(id, { resolve, reject, timer })
      })
      const envelope: Envelope = { t: 'req', id, from: replica, body: request }
      let receivers: number
      try {
        receivers = await redis.publish(redis.keys.channel('replica', to), JSON.stringify(envelope))
      } catch (error) {
        clearTimeout(waiting.get(id)?.timer)
        waiting.delete(id)
        // The connection was up: a PUBLISH that timed out (a hung Redis) or lost its connection may still be delivered.
        throw new RelayUnconfirmedError(to, `the PUBLISH failed (${(error as Error).message})`)
      }
      if (receivers === 0) {
        clearTimeout(waiting.get(id)?.timer)
        waiting.delete(id)
        return undefined
      }
      return await answered
    },
    async notify (to, notice) {
      const envelope: Envelope = { t: 'note', body: notice }
      return await redis.publish(redis.keys.channel('replica', to), JSON.stringify(envelope)) > 0
    },
    async broadcast (event) {
      await redis.publish(allChannel, JSON.stringify({ from: replica, body: event }))
    },
    handle (handlers) {
      if (handlers.request !== undefined) {
        if (requestHandler !== undefined) throw new Error('The broker already has a request handler')
        requestHandler = handlers.request
      }
      if (handlers.notice !== undefined) noticeHandlers.push(handlers.notice)
      if (handlers.event !== undefined) eventHandlers.push(handlers.event)
    },
    async close () {
      for (const [id, pending] of waiting) {
        clearTimeout(pending.timer)
        pending.reject(new Error('The cluster connection closed'))
        waiting.delete(id)
      }
      await redis.unsubscribe(ownChannel, onOwnMessage)
      await redis.unsubscribe(allChannel, onEvent)
      // The heartbeat goes with us: other replicas learn at once that our streams and calls are gone.
      await redis.commands.del(heartbeatKey(replica)).catch(() => {})
    }
  }
}
