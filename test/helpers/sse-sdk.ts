import type { Client } from '@modelcontextprotocol/sdk/client/index.js'

/**
 * Works around a race in the SDK client (modelcontextprotocol/typescript-sdk issue #2580): `Protocol` handles
 * a response at once but a notification one microtask later, and the `eventsource` parser under
 * `SSEClientTransport` dispatches all the events of one network chunk synchronously. When the last progress
 * notifications and the result arrive in one chunk, the result removes the progress handler first and those
 * notifications are reported as "for an unknown token". Handing responses on one microtask later restores the
 * order the server sent them in.
 */
export function keepProgressBeforeResults (client: Client): void {
  const transport = client.transport
  const deliver = transport?.onmessage
  if (transport === undefined || deliver === undefined) throw new Error('connect the client first')
  transport.onmessage = (message, extra) => {
    if ('method' in message) deliver(message, extra)
    else queueMicrotask(() => { deliver(message, extra) })
  }
}

/** Records what reaches the client's transport, in arrival order: `progress <n>`, `result <id>`, ... */
export function recordArrivals (client: Client): string[] {
  const arrivals: string[] = []
  const transport = client.transport
  const deliver = transport?.onmessage
  if (transport === undefined || deliver === undefined) throw new Error('connect the client first')
  transport.onmessage = (message, extra) => {
    const params = (message as { params?: { progress?: number } }).params
    if ('method' in message) arrivals.push(message.method === 'notifications/progress' ? `progress ${String(params?.progress)}` : message.method)
    else arrivals.push(`result ${String(message.id)}`)
    deliver(message, extra)
  }
  return arrivals
}
