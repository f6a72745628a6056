/** One event seen on an event-stream response. */
export interface SeenEvent {
  id: string | undefined
  data: string
}

/** One request an SDK client made, as the wire saw it. */
export interface Exchange {
  method: string
  /** The request's JSON-RPC method (or `response` for a client's answer), when it had a body. */
  rpc: string | undefined
  lastEventId: string | undefined
  /** The request's Mcp-Session-Id. */
  sessionId: string | undefined
  /** 0 until the response came (or when the request failed). */
  status: number
  /** The replica that served it, from nginx's `X-Upstream` (the URL's host when there is no nginx); '' until answered. */
  upstream: string
  /** Resolves once the response's head came (or the request failed). */
  answered: Promise<void>
  /** Events of an event-stream response, as they arrive. */
  events: SeenEvent[]
  /** Resolves when an event-stream response has ended (or broke); at once for other responses. */
  ended: Promise<void>
}

export interface RecordingFetch {
  fetch: typeof fetch
  /** Every request, in the order they were made. */
  exchanges: Exchange[]
  /** Resolves once every request made so far has its response head (a call's answer may beat its POST's 202). */
  settled: () => Promise<void>
  /** Holds every later request for which `match` says so until the returned function is called. */
  hold: (match: (method: string, headers: Headers) => boolean) => () => void
}

function rpcMethod (body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined
  try {
    const message = JSON.parse(body) as { method?: string }
    return message.method ?? 'response'
  } catch {
    return undefined
  }
}

/** Parses server-sent events off `stream` into `events` (id and data only; comments and retry are skipped). */
async function readEvents (stream: ReadableStream<Uint8Array>, events: SeenEvent[]): Promise<void> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        let id: string | undefined
        const data: string[] = []
        for (const line of block.split('\n')) {
          if (line.startsWith('id:')) id = line.slice(3).trim()
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
        }
        if (id !== undefined || data.length > 0) events.push({ id, data: data.join('\n') })
      }
    }
  } catch {
    // The connection broke: what arrived is recorded.
  }
}

/**
 * A fetch for an SDK client's transport that records every exchange (which replica served it, the events of its
 * stream) without changing what the client sees, and can hold requests back (a reconnection, say) until the test
 * lets them go.
 */
export function recordingFetch (): RecordingFetch {
  const exchanges: Exchange[] = []
  const holds: Array<{ match: (method: string, headers: Headers) => boolean, released: Promise<void> }> = []
  const recorder = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const method = init?.method ?? 'GET'
    const headers = new Headers(init?.headers)
    for (const held of holds.filter((entry) => entry.match(method, headers))) await held.released
    const pending = fetch(input, init)
    const exchange: Exchange = {
      method,
      rpc: rpcMethod(init?.body),
      lastEventId: headers.get('last-event-id') ?? undefined,
      sessionId: headers.get('mcp-session-id') ?? undefined,
      status: 0,
      upstream: '',
      answered: pending.then((response) => {
        exchange.status = response.status
        exchange.upstream = response.headers.get('x-upstream') ?? new URL(String(input instanceof Request ? input.url : input)).host
      }, () => {}),
      events: [],
      ended: Promise.resolve()
    }
    exchanges.push(exchange)
    const response = await pending
    await exchange.answered
    const isStream = response.headers.get('content-type')?.startsWith('text/event-stream') === true
    if (!isStream || response.body === null) return response
    const [forClient, forRecord] = response.body.tee()
    exchange.ended = readEvents(forRecord, exchange.events)
    return new Response(forClient, { status: response.status, statusText: response.statusText, headers: response.headers })
  }
  return {
    fetch: recorder as typeof fetch,
    exchanges,
    settled: async () => { await Promise.all(exchanges.map(async (exchange) => await exchange.answered)) },
    hold: (match) => {
      let release!: () => void
      const released = new Promise<void>((resolve) => { release = resolve })
      const entry = { match, released }
      holds.push(entry)
      return () => {
        holds.splice(holds.indexOf(entry), 1)
        release()
      }
    }
  }
}
