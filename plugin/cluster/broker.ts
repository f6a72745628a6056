import { randomBytes } from 'node:crypto'
import type { JsonRpcId, JsonRpcResponse } from '../protocol/jsonrpc.js'
import type { Answerer } from '../dispatch/client-requests.js'
import type { ChangeEvent } from '../dispatch/notification-hub.js'

/** A message for one replica, which answers it. */
export type ReplicaRequest =
  /** A `POST /messages` for a legacy SSE session whose stream that replica holds. */
  | { kind: 'sse-message', sessionId: string, ownerId: string | null, message: unknown }

/** The owner's verdict on a relayed message: the HTTP status the poster gets, and its JSON-RPC error if refused. */
export interface ReplicaReply {
  status: number
  error?: { code: number, message: string, id: JsonRpcId | null, retryAfter?: string }
}

/** A message for one replica that needs no answer. */
export type ReplicaNotice =
  /** A client's answer to a server-to-client request that replica made. */
  | { kind: 'client-answer', response: JsonRpcResponse, answerer: Answerer }

/** A message for every replica. */
export type ClusterEvent =
  /** Tell the clients of your own streams (SSE sessions, 2026 listen streams) about a change. */
  | { kind: 'change', event: ChangeEvent }
  /** A client cancelled a request of a stateful session: stop it if it runs on you. */
  | { kind: 'cancel', sessionId: string, ownerId: string | null, requestId: JsonRpcId, reason: unknown }

/**
 * The message path between the replicas of a cluster. A process alone has the local broker: it is the only replica,
 * always alive, and has nobody to tell.
 */
export interface Broker {
  /** This replica's name: unique in the cluster, never reused. */
  readonly replica: string
  /** True while messages can cross replicas. */
  readonly connected: boolean
  /** Whether `replica` is alive (it keeps its heartbeat). */
  isAlive: (replica: string) => Promise<boolean>
  /**
   * Sends a request to `replica` and waits for its reply; undefined when no replica by that name listens (it is
   * gone). Rejects when the message path is down (nothing was sent), and with `RelayUnconfirmedError` when the
   * request may have gone out but no reply came (the replica may have acted on it).
   */
  request: (replica: string, request: ReplicaRequest) => Promise<ReplicaReply | undefined>
  /** Sends a notice to `replica`; false when no replica by that name listens. */
  notify: (replica: string, notice: ReplicaNotice) => Promise<boolean>
  /** Sends an event to every other replica. */
  broadcast: (event: ClusterEvent) => Promise<void>
  /** Adds handlers for what other replicas send here: events reach every handler, requests the one request handler. */
  handle: (handlers: Partial<BrokerHandlers>) => void
  close: () => Promise<void>
}

export interface BrokerHandlers {
  request: (request: ReplicaRequest) => Promise<ReplicaReply>
  notice: (notice: ReplicaNotice) => void
  event: (event: ClusterEvent) => void
}

/** A relayed request may have reached its replica, but no verdict came back: it may or may not have been acted on. */
export class RelayUnconfirmedError extends Error {
  constructor (replica: string, reason: string) {
    super(`Replica ${replica} did not confirm a relayed message: ${reason}`)
    this.name = 'RelayUnconfirmedError'
  }
}

/** A new replica name: 12 random bytes, base64url (no dots, so it can prefix request ids). */
export function newReplicaName (): string {
  return randomBytes(12).toString('base64url')
}

/** The broker of a process that is not part of a cluster. */
export function createLocalBroker (): Broker {
  const replica = newReplicaName()
  return {
    replica,
    connected: true,
    isAlive: async (name) => name === replica,
    request: async () => undefined,
    notify: async () => false,
    broadcast: async () => {},
    handle: () => {},
    close: async () => {}
  }
}
