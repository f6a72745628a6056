import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import type { AuthorizationServer } from './authorization-server.js'
import { REDIRECT_URI } from './oauth-tokens.js'

/**
 * An MCP SDK client's OAuth provider, as an app with a browser would implement it, except that "the browser" is
 * the test: `redirectToAuthorization` follows the authorization URL through the scripted login and consent, and
 * the redirect's query waits in `takeRedirect()` for the test to hand to `transport.finishAuth(...)`. What the
 * SDK saves (client registration, tokens, PKCE verifier) is kept in memory. Works for the 1.x and 2.x clients.
 */
export class TestOAuthProvider implements OAuthClientProvider {
  private client: OAuthClientInformationMixed | undefined
  private saved: OAuthTokens | undefined
  private verifier = ''
  private redirect: Promise<URLSearchParams> | undefined
  /** Every authorization URL the SDK sent the "user" to, in order. */
  readonly authorizations: URL[] = []
  /** How many times the SDK saved tokens (a refresh saves again). */
  tokenSaves = 0

  constructor (private readonly as: AuthorizationServer, private readonly options: { name: string, refreshTokens: boolean }) {}

  get redirectUrl (): string { return REDIRECT_URI }

  get clientMetadata (): OAuthClientMetadata {
    return {
      client_name: this.options.name,
      redirect_uris: [REDIRECT_URI],
      grant_types: this.options.refreshTokens ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none'
    }
  }

  clientInformation (): OAuthClientInformationMixed | undefined { return this.client }
  saveClientInformation (information: OAuthClientInformationMixed): void { this.client = information }
  tokens (): OAuthTokens | undefined { return this.saved }
  saveTokens (tokens: OAuthTokens): void {
    this.saved = tokens
    this.tokenSaves++
  }

  saveCodeVerifier (verifier: string): void { this.verifier = verifier }
  codeVerifier (): string { return this.verifier }

  redirectToAuthorization (url: URL): void {
    this.authorizations.push(url)
    this.redirect = this.as.authorize(url)
  }

  /** The query of the redirect back to the client after the last authorization (code, state, iss). */
  async takeRedirect (): Promise<URLSearchParams> {
    if (this.redirect === undefined) throw new Error('the SDK did not send the user to authorize')
    const redirect = await this.redirect
    this.redirect = undefined
    return redirect
  }

  async takeCode (): Promise<string> {
    const redirect = await this.takeRedirect()
    const code = redirect.get('code')
    if (code === null) throw new Error(`the redirect carries no code: ${redirect.toString()}`)
    return code
  }

  /** The access token the SDK holds now (the test checks it against the server, never logs it). */
  get accessToken (): string | undefined { return this.saved?.access_token }
}
