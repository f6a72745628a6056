import { fetchJson, IdpUnavailableError } from './idp-outage.js'

/** The parts of an authorization server's metadata (RFC 8414 / OpenID Discovery) a resource server uses. */
export interface IssuerMetadata {
  issuer: string
  jwks_uri?: string
  introspection_endpoint?: string
}

/**
 * Where an issuer's metadata may be, in the order the MCP authorization spec gives: RFC 8414's path-inserted
 * form, then OpenID Discovery path-inserted and appended (an issuer without a path has only the first two).
 */
export function discoveryUrls (issuer: string): string[] {
  const url = new URL(issuer)
  const path = url.pathname.replace(/\/$/, '')
  if (path === '') {
    return [`${url.origin}/.well-known/oauth-authorization-server`, `${url.origin}/.well-known/openid-configuration`]
  }
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`
  ]
}

/** The metadata was found but does not fit the configuration: an operator's mistake, reported as such. */
export class IssuerMismatchError extends IdpUnavailableError {}

function isMetadata (body: unknown): body is IssuerMetadata {
  return typeof body === 'object' && body !== null && typeof (body as IssuerMetadata).issuer === 'string'
}

/**
 * Fetches the issuer's metadata from the first discovery URL that has it. The document's `issuer` must equal the
 * configured one exactly (RFC 8414 §3.3), or its keys could be anyone's.
 */
export async function discoverIssuer (issuer: string, timeoutMs: number): Promise<IssuerMetadata> {
  const tried: string[] = []
  for (const url of discoveryUrls(issuer)) {
    const { status, body } = await fetchJson(url, timeoutMs, { headers: { accept: 'application/json' } })
    if (status !== 200 || !isMetadata(body)) {
      tried.push(`${url} (${status})`)
      continue
    }
    if (body.issuer !== issuer) {
      throw new IssuerMismatchError(`the metadata at ${url} names the issuer "${body.issuer}", not "${issuer}": set the issuer exactly as the identity provider spells it`)
    }
    return body
  }
  throw new IssuerMismatchError(`no authorization server metadata for ${issuer} at ${tried.join(', ')}: check the issuer URL`)
}
