import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * `requestState` of input-required results: what a stateless server needs to remember between rounds, carried
 * by the client and signed so that a client cannot forge or alter it.
 */
export class RequestStateSigner {
  private readonly key: Buffer

  constructor (secret?: string) {
    this.key = secret === undefined ? randomBytes(32) : Buffer.from(secret)
  }

  sign (state: unknown): string {
    const data = Buffer.from(JSON.stringify(state)).toString('base64url')
    return `${data}.${this.mac(data)}`
  }

  /** The state, or undefined when the token was altered, forged or is not one of ours. */
  verify (token: string): unknown {
    const dot = token.lastIndexOf('.')
    if (dot <= 0) return undefined
    const data = token.slice(0, dot)
    const given = Buffer.from(token.slice(dot + 1))
    const expected = Buffer.from(this.mac(data))
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
    try {
      return JSON.parse(Buffer.from(data, 'base64url').toString('utf8'))
    } catch {
      return undefined
    }
  }

  private mac (data: string): string {
    return createHmac('sha256', this.key).update(data).digest('base64url')
  }
}
