import { createServer } from 'node:http'

/** The issuer the bench's JWTs name (a loopback http URL, which auth.oauth accepts for development). */
export const BENCH_ISSUER = 'http://127.0.0.1/bench-issuer'
/** The audience the bench's JWTs carry, and the server requires. */
export const BENCH_AUDIENCE = 'bench-mcp'

/**
 * A stand-in for an identity provider's key endpoint: serves the public key set the bench signed its token
 * with (BENCH_JWKS, JSON) on a loopback port. The server fetches it once; the load never touches it again.
 */
export async function serveJwks (jwks: string): Promise<string> {
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json')
    response.end(jwks)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`
}
