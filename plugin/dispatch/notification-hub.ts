import type { JsonRpcNotification } from '../protocol/jsonrpc.js'
import type { ListKind } from '../protocol/spec.js'

/** Somewhere change notifications can go: a session's stream, a 2026-era `subscriptions/listen` stream. */
export interface NotificationSink {
  wantsListChanged: (kind: ListKind) => boolean
  wantsResourceUpdated: (uri: string) => boolean
  send: (notification: JsonRpcNotification) => void
}

/** Fans list-changed and resource-updated notifications out to every sink that asked for them. */
export class NotificationHub {
  private readonly sinks = new Set<NotificationSink>()

  /** Adds a sink; the returned function removes it. */
  add (sink: NotificationSink): () => void {
    this.sinks.add(sink)
    return () => { this.sinks.delete(sink) }
  }

  get size (): number {
    return this.sinks.size
  }

  listChanged (kind: ListKind): number {
    return this.publish((sink) => sink.wantsListChanged(kind), { jsonrpc: '2.0', method: `notifications/${kind}/list_changed` })
  }

  resourceUpdated (uri: string): number {
    return this.publish((sink) => sink.wantsResourceUpdated(uri), { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri } })
  }

  private publish (wanted: (sink: NotificationSink) => boolean, notification: JsonRpcNotification): number {
    let sent = 0
    for (const sink of this.sinks) {
      if (!wanted(sink)) continue
      sink.send(notification)
      sent++
    }
    return sent
  }
}
