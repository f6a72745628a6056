/** Who is calling, as the auth layer established it. Sessions are bound to `id`, never to a token's bytes. */
export interface AuthIdentity {
  /** Stable name of the caller: shown in logs, compared to bind sessions. Never a secret. */
  id: string
  /** Anything else the verifier wants handlers to see (scopes, tenant, ...). */
  [key: string]: unknown
}

export type TransportName = 'streamable-http' | 'sse' | 'stdio'
