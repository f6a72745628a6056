/** Who is calling, as the auth layer established it. Sessions are bound to `id`, never to a token's bytes. */
export interface AuthIdentity {
  /** Stable name of the caller: shown in logs, compared to bind sessions. Never a secret. */
  id: string
  /**
   * Scopes the caller holds (OAuth identities always have them; a verify function may set them): checked against
   * the `scopes` of tools, resources and prompts. An identity without them is not restricted by scopes.
   */
  scopes?: readonly string[]
  /** Anything else the verifier wants handlers to see (tenant, claims, ...). */
  [key: string]: unknown
}

export type TransportName = 'streamable-http' | 'sse' | 'stdio'
