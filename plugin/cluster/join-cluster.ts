import type { Dispatcher } from '../dispatch/dispatcher.js'
import type { Broker } from './broker.js'

interface Log {
  warn: (obj: object, msg: string) => void
}

/**
 * Connects this replica's dispatcher to the others: a change that happens here is told to every replica (each
 * tells the clients of its own streams), a change told by another replica reaches this one's streams, and a
 * client's answer that another replica received for a request of ours settles it here.
 */
export function joinCluster (dispatcher: Dispatcher, broker: Broker, log: Log): void {
  dispatcher.addRelay(async (event) => {
    await broker.broadcast({ kind: 'change', event }).catch((error: unknown) => {
      log.warn({ err: error, change: event }, 'A change notification could not reach the other replicas: Redis is unreachable')
    })
    // Other replicas count their own clients.
    return 0
  })
  broker.handle({
    event (event) {
      if (event.kind === 'change') dispatcher.deliverLocally(event.event)
    },
    notice (notice) {
      if (notice.kind === 'client-answer') dispatcher.settleAnswer(notice.response, notice.answerer)
    }
  })
}
