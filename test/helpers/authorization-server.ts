import http from 'node:http'
import { after } from 'node:test'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose'
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider'
import { createStore } from './oidc-memory-store.js'

/** The scopes the test resource server knows; what a test asks for and what the consent grants. */
export const RESOURCE_SCOPES = ['mcp:tools', 'notes:read', 'deploy:write', 'admin', 'todo:write']
/** The confidential client a resource server introspects opaque tokens with. */
export const INTROSPECTOR = { clientId: 'mcp-introspector', clientSecret: 'introspector-secret-0123456789' }
/** A confidential client that gets tokens for itself (client credentials). */
export const MACHINE_CLIENT = { clientId: 'ci-machine', clientSecret: 'machine-secret-0123456789' }

export interface SigningKey {
  kid: string
  privateJwk: JWK
  publicJwk: JWK
}

/** The scripted user at the consent screen: who logs in and which of the requested scopes they grant. */
export interface ConsentScript {
  account: string
  /** Filters the scopes the user grants; default: every scope asked for. */
  grant?: (requested: string[]) => string[]
}

export interface AuthorizationServer {
  /** `http://127.0.0.1:<port>`: also the issuer. */
  issuer: string
  consent: ConsentScript
  /** Access tokens are issued for this long (seconds). */
  accessTokenTtl: number
  /** `jwt` (the default) or `opaque` (for introspection). */
  accessTokenFormat: 'jwt' | 'opaque'
  /** The key tokens are signed with now. */
  readonly signingKey: SigningKey
  /** Follows an authorization URL through the scripted login and consent to the client's redirect; returns its query. */
  authorize: (authorizationUrl: string | URL) => Promise<URLSearchParams>
  /**
   * Rotates the signing key: a new key signs from now on; the old one is published beside it when `keepOld`,
   * dropped from the key set otherwise.
   */
  rotateKeys: (keepOld: boolean) => Promise<SigningKey>
  /** Signs an arbitrary JWT with a key of this server (or any key), for tokens no real flow would produce. */
  sign: (claims: JWTPayload, options?: { key?: SigningKey, header?: Record<string, unknown> }) => Promise<string>
  /** Makes every request fail with a dropped connection (an identity-provider outage), or serve again. */
  setDown: (down: boolean) => void
  /** How many times each path was requested, e.g. `/jwks`. */
  hits: Map<string, number>
}

export async function createSigningKey (kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const base = { kid, alg: 'RS256', use: 'sig' }
  return { kid, privateJwk: { ...await exportJWK(privateKey), ...base }, publicJwk: { ...await exportJWK(publicKey), ...base } }
}

async function readForm (request: http.IncomingMessage): Promise<URLSearchParams> {
  let body = ''
  for await (const chunk of request) body += String(chunk)
  return new URLSearchParams(body)
}

/**
 * oidc-provider (a certified OpenID Provider) on a loopback port, as the identity provider of the OAuth tests:
 * dynamic client registration, PKCE, resource indicators (JWT access tokens whose `aud` is the requested
 * resource), refresh tokens, introspection, a login and consent answered by a script, and key rotation.
 * Stopped when the test (or suite) ends: pass a test context, or `{ after }` from node:test for a whole file.
 */
export async function startAuthorizationServer (t: { after: (cleanup: () => Promise<void>) => void }): Promise<AuthorizationServer> {
  let provider: Provider | undefined
  let down = false
  const hits = new Map<string, number>()
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?', 1)[0]
    hits.set(path, (hits.get(path) ?? 0) + 1)
    if (down) {
      request.socket.destroy()
      return
    }
    if (path.startsWith('/interaction/')) {
      interaction(request, response, path.slice('/interaction/'.length)).catch((error: unknown) => {
        response.statusCode = 500
        response.end(String(error))
      })
      return
    }
    void (provider as Provider).callback()(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const sockets = new Set<import('node:net').Socket>()
  server.on('connection', (socket) => { sockets.add(socket); socket.once('close', () => sockets.delete(socket)) })

  let keys = [await createSigningKey('key-1')]
  const adapter = createStore()
  const as: AuthorizationServer = {
    issuer,
    consent: { account: 'alice' },
    accessTokenTtl: 300,
    accessTokenFormat: 'jwt',
    get signingKey () { return keys[0] },
    authorize,
    rotateKeys,
    sign,
    setDown: (value) => { down = value },
    hits
  }

  function configuration (): Configuration {
    return {
      adapter,
      jwks: { keys: keys.map((key) => key.privateJwk) as Configuration['jwks'] extends { keys: infer K } | undefined ? K : never },
      clients: [
        { client_id: INTROSPECTOR.clientId, client_secret: INTROSPECTOR.clientSecret, grant_types: [], response_types: [], redirect_uris: [] },
        { client_id: MACHINE_CLIENT.clientId, client_secret: MACHINE_CLIENT.clientSecret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: RESOURCE_SCOPES.join(' ') }
      ],
      findAccount: async (_ctx, id) => ({
        accountId: id,
        claims: async () => ({ sub: id, email: `${id}@example.test`, name: `User ${id}` })
      }),
      scopes: ['openid', 'offline_access', ...RESOURCE_SCOPES],
      features: {
        devInteractions: { enabled: false },
        registration: { enabled: true },
        introspection: { enabled: true },
        revocation: { enabled: true },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: async (_ctx, _client, oneOf) => oneOf ?? undefined,
          useGrantedResource: async () => true,
          getResourceServerInfo: async () => ({
            scope: RESOURCE_SCOPES.join(' '),
            accessTokenTTL: as.accessTokenTtl,
            accessTokenFormat: as.accessTokenFormat,
            jwt: { sign: { alg: 'RS256' } }
          })
        }
      },
      // Like most identity providers, a refresh token for every client allowed the grant (not only with offline_access).
      issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      pkce: { required: () => true },
      cookies: { keys: ['authorization-server-test-cookie-key'] },
      interactions: { url: async (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}` },
      clientBasedCORS: () => true,
      ttl: {
        AccessToken: () => as.accessTokenTtl,
        ClientCredentials: () => as.accessTokenTtl,
        Interaction: 600,
        Session: 3600,
        Grant: 3600,
        RefreshToken: 3600
      }
    }
  }

  function build (): void {
    provider = new Provider(issuer, configuration())
    // Loopback http: oidc-provider insists on https unless told the connection is what it says.
    provider.proxy = true
  }
  build()

  async function rotateKeys (keepOld: boolean): Promise<SigningKey> {
    const fresh = await createSigningKey(`key-${keys.length + 1}-${Date.now()}`)
    keys = keepOld ? [fresh, ...keys] : [fresh]
    // Grants, clients and sessions live in the shared store and survive the rebuild.
    build()
    return fresh
  }

  async function sign (claims: JWTPayload, options: { key?: SigningKey, header?: Record<string, unknown> } = {}): Promise<string> {
    const key = options.key ?? keys[0]
    const { importJWK } = await import('jose')
    const privateKey = await importJWK(key.privateJwk, 'RS256')
    return await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt', ...options.header })
      .sign(privateKey)
  }

  /** The login and consent pages, answered by whoever follows `authorize` (no HTML needed beyond a form). */
  async function interaction (request: http.IncomingMessage, response: http.ServerResponse, uid: string): Promise<void> {
    const live = provider as Provider
    const details = await live.interactionDetails(request, response)
    if (details.uid !== uid) throw new Error('interaction mismatch')
    if (request.method === 'GET') {
      response.setHeader('content-type', 'text/html')
      response.end(`<form method="post" action="/interaction/${uid}"><input name="prompt" value="${details.prompt.name}"><button>Continue</button></form>`)
      return
    }
    await readForm(request)
    if (details.prompt.name === 'login') {
      await live.interactionFinished(request, response, { login: { accountId: as.consent.account } }, { mergeWithLastSubmission: false })
      return
    }
    const grant = details.grantId === undefined
      ? new live.Grant({ accountId: details.session?.accountId, clientId: details.params.client_id as string })
      : await live.Grant.find(details.grantId) as InstanceType<Provider['Grant']>
    const missing = details.prompt.details as { missingOIDCScope?: string[], missingOIDCClaims?: string[], missingResourceScopes?: Record<string, string[]> }
    const granted = as.consent.grant ?? ((requested: string[]) => requested)
    if (missing.missingOIDCScope !== undefined) grant.addOIDCScope(granted(missing.missingOIDCScope).join(' '))
    if (missing.missingOIDCClaims !== undefined) grant.addOIDCClaims(missing.missingOIDCClaims)
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(resource, granted(scopes).join(' '))
    const grantId = await grant.save()
    await live.interactionFinished(request, response, { consent: details.grantId === undefined ? { grantId } : {} }, { mergeWithLastSubmission: true })
  }

  /** A browser for one authorization: a cookie jar, redirects followed by hand, each interaction form submitted. */
  async function authorize (authorizationUrl: string | URL): Promise<URLSearchParams> {
    const cookies = new Map<string, string>()
    let url = new URL(authorizationUrl)
    const redirectTarget = url.searchParams.get('redirect_uri') ?? ''
    let method = 'GET'
    for (let step = 0; step < 20; step++) {
      const response = await fetch(url, {
        method,
        redirect: 'manual',
        headers: {
          cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
          ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {})
        },
        body: method === 'POST' ? 'confirm=yes' : undefined
      })
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';')
        const [name, ...value] = pair.split('=')
        cookies.set(name.trim(), value.join('='))
      }
      const location = response.headers.get('location')
      await response.body?.cancel()
      if (location !== null) {
        if (redirectTarget !== '' && location.startsWith(redirectTarget)) return new URL(location).searchParams
        url = new URL(location, url)
        method = 'GET'
        continue
      }
      if (response.status === 200 && url.pathname.startsWith('/interaction/')) {
        method = 'POST'
        continue
      }
      throw new Error(`authorization stopped at ${url.pathname} with status ${response.status}`)
    }
    throw new Error('authorization did not reach the redirect URI in 20 steps')
  }

  t.after(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return as
}

/**
 * One authorization server for a whole test file (it is slow to start): started by the first test that asks for
 * it, stopped after the file's last test.
 */
export function useAuthorizationServer (): () => Promise<AuthorizationServer> {
  let started: Promise<AuthorizationServer> | undefined
  const cleanups: Array<() => Promise<void>> = []
  after(async () => { for (const cleanup of cleanups) await cleanup() })
  return async () => await (started ??= startAuthorizationServer({ after: (cleanup) => { cleanups.push(cleanup) } }))
}

/** Registers a client dynamically (RFC 7591), as MCP clients do. */
export async function registerClient (issuer: string, metadata: Record<string, unknown>): Promise<{ client_id: string, client_secret?: string }> {
  const response = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata)
  })
  if (response.status !== 201) throw new Error(`registration failed: ${response.status} ${await response.text()}`)
  return await response.json() as { client_id: string, client_secret?: string }
}
