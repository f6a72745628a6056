/** One server-sent event as it came off the wire, comments before it included. */
export interface SseEvent {
  /** The `event:` field; `message` for an unnamed event with data; '' for a block of comments, or a priming event. */
  event: string
  data: string
  id?: string
  retry?: number
  /** Comment lines (`: ...`) that came before this event. */
  comments: string[]
}

/**
 * Reads server-sent events off a fetch response, one block at a time: events, `id:` and `retry:` fields, priming
 * events (an id with empty data) and comment blocks. The one event-stream reader of the tests.
 */
export class SseReader {
  private buffer = ''
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>
  private readonly decoder = new TextDecoder()
  private comments: string[] = []

  constructor (readonly response: Response) {
    if (response.body === null) throw new Error('The response has no body')
    this.reader = response.body.getReader()
  }

  /** The next block: an event, a priming event, or a lone comment block (event ''); undefined when the stream ends. */
  async next (): Promise<SseEvent | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n')
      if (end !== -1) {
        const block = this.buffer.slice(0, end)
        this.buffer = this.buffer.slice(end + 2)
        const parsed = this.parse(block)
        if (parsed !== undefined) return parsed
        continue
      }
      const { value, done } = await this.reader.read()
      if (done) return undefined
      this.buffer += this.decoder.decode(value, { stream: true })
    }
  }

  /** The next block that is not only comments (a priming event counts: it has an id). */
  async nextEvent (): Promise<SseEvent | undefined> {
    for (;;) {
      const event = await this.next()
      if (event === undefined || event.event !== '' || event.id !== undefined) return event
    }
  }

  /** The next JSON-RPC message (an event with data), skipping priming events and comments. */
  async nextMessage (): Promise<{ id: string | undefined, message: any } | undefined> {
    for (;;) {
      const event = await this.nextEvent()
      if (event === undefined) return undefined
      if (event.data !== '') return { id: event.id, message: JSON.parse(event.data) }
    }
  }

  /** Every message until the stream ends. */
  async rest (): Promise<Array<{ id: string | undefined, message: any }>> {
    const all = []
    for (let next = await this.nextMessage(); next !== undefined; next = await this.nextMessage()) all.push(next)
    return all
  }

  async cancel (): Promise<void> {
    await this.reader.cancel().catch(() => {})
  }

  private parse (block: string): SseEvent | undefined {
    const event: SseEvent = { event: '', data: '', comments: [] }
    const data: string[] = []
    let fields = 0
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim())
      else if (line.startsWith('event:')) event.event = line.slice(6).trim()
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
      else if (line.startsWith('id:')) event.id = line.slice(3).trim()
      else if (line.startsWith('retry:')) event.retry = Number(line.slice(6).trim())
      else continue
      if (!line.startsWith(':')) fields++
    }
    event.data = data.join('\n')
    if (event.event === '' && event.data !== '') event.event = 'message'
    event.comments = this.comments
    this.comments = []
    if (fields === 0 && event.comments.length === 0) return undefined
    return event
  }
}
