/** Reads server-sent events off a fetch response, one at a time, comments included. */
export interface SseEvent {
  event: string
  data: string
  id?: string
  /** Comment lines (`: ...`) that came before this event. */
  comments: string[]
}

export class SseReader {
  private buffer = ''
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>
  private readonly decoder = new TextDecoder()
  private comments: string[] = []

  constructor (response: Response) {
    if (response.body === null) throw new Error('The response has no body')
    this.reader = response.body.getReader()
  }

  /** The next event (or lone comment block, as event ''), or undefined when the stream ends. */
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

  /** The next event that is not a comment. */
  async nextEvent (): Promise<SseEvent | undefined> {
    for (;;) {
      const event = await this.next()
      if (event === undefined || event.event !== '') return event
    }
  }

  async cancel (): Promise<void> {
    await this.reader.cancel().catch(() => {})
  }

  private parse (block: string): SseEvent | undefined {
    let event = ''
    let id: string | undefined
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim())
      else if (line.startsWith('event:')) event = line.slice(6).trim()
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
      else if (line.startsWith('id:')) id = line.slice(3).trim()
    }
    if (event === '' && data.length > 0) event = 'message'
    const comments = this.comments
    this.comments = []
    if (event === '' && comments.length === 0) return undefined
    return id === undefined ? { event, data: data.join('\n'), comments } : { event, data: data.join('\n'), id, comments }
  }
}
