import type { JsonRpcNotification } from '../protocol/jsonrpc.js'
import type { ListKind } from '../protocol/spec.js'

/** Something changed that subscribed clients are told about. */
export type ChangeEvent =
  | { kind: 'list-changed', list: ListKind }
  | { kind: 'resource-updated', uri: string }

/** Somewhere change notifications can go: a session's stream, a 2026-era `subscriptions/listen` stream. */
export interface NotificationSink {
  wantsListChanged: (kind: ListKind) => boolean
  wantsResourceUpdated: (uri: string) => boolean
  send: (notification: JsonRpcNotification) => void
}

/** The notification a change event becomes on the wire. */
export function changeNotification (event: ChangeEvent): JsonRpcNotification {
  return event.kind === 'list-changed'
    ? { jsonrpc: '2.0', method: `notifications/${event.list}/list_changed` }
    : { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: event.uri } }
}

/** Fans change notifications out to every sink in this process that asked for them. */
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

  /** Sends the event's notification to every sink that wants it; returns how many got it. */
  deliver (event: ChangeEvent): number {
    const wanted = event.kind === 'list-changed'
      ? (sink: NotificationSink) => sink.wantsListChanged(event.list)
      : (sink: NotificationSink) => sink.wantsResourceUpdated(event.uri)
    const notification = changeNotification(event)
    let sent = 0
    for (const sink of this.sinks) {
      if (!wanted(sink)) continue
      sink.send(notification)
      sent++
    }
    return sent
  }
}
