import type { OAuthOptions, OAuthOptionsError } from '../plugin/auth/oauth/oauth-options.js'
import { ConfigError } from './config-error.js'
import type { ServerSettings } from './server-settings.js'

function url (name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  try {
    const parsed = new URL(raw)
    if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return raw
  } catch {}
  throw new ConfigError(`${name} must be an absolute URL such as https://auth.example.com, got "${raw}"`)
}

/** `admin=deploy:write deploy:read,owner=admin`: each scope before `=` implies the ones after it. */
function scopeImplications (raw: string | undefined): Record<string, string[]> | undefined {
  if (raw === undefined) return undefined
  const implications: Record<string, string[]> = {}
  for (const entry of raw.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const [scope, implied, extra] = entry.split('=')
    const list = implied?.trim().split(/\s+/).filter((part) => part !== '') ?? []
    if (extra !== undefined || scope.trim() === '' || list.length === 0) {
      throw new ConfigError(`MCP_OAUTH_SCOPE_IMPLICATIONS: "${entry}" is not "scope=implied implied..." (entries separated by commas)`)
    }
    implications[scope.trim()] = list
  }
  return implications
}

const NEEDS_ISSUER = [
  ['resourceUrl', 'MCP_RESOURCE_URL'], ['oauthScopes', 'MCP_OAUTH_SCOPES'], ['oauthAudience', 'MCP_OAUTH_AUDIENCE'],
  ['oauthScopeImplications', 'MCP_OAUTH_SCOPE_IMPLICATIONS'], ['oauthIntrospectionUrl', 'MCP_OAUTH_INTROSPECTION_URL'],
  ['oauthClientId', 'MCP_OAUTH_CLIENT_ID'], ['oauthClientSecret', 'MCP_OAUTH_CLIENT_SECRET']
] as const

/** The variable behind each `auth.oauth` option, and what it expects when the option's own words fit no variable. */
const VARIABLES: ReadonlyArray<{ path: string, variable: string, expected?: string }> = [
  { path: 'issuer', variable: 'MCP_OAUTH_ISSUER' },
  { path: 'resource', variable: 'MCP_RESOURCE_URL' },
  { path: 'scopes', variable: 'MCP_OAUTH_SCOPES', expected: 'must be scope names separated by commas, without quotes or backslashes' },
  { path: 'audience', variable: 'MCP_OAUTH_AUDIENCE', expected: 'must name at least one aud value (comma-separated)' },
  { path: 'scopeImplications', variable: 'MCP_OAUTH_SCOPE_IMPLICATIONS', expected: 'must be "scope=implied implied..." entries of scope names, without quotes or backslashes' },
  { path: 'introspection.url', variable: 'MCP_OAUTH_INTROSPECTION_URL' },
  { path: 'introspection.clientId', variable: 'MCP_OAUTH_CLIENT_ID' },
  { path: 'introspection.clientSecret', variable: 'MCP_OAUTH_CLIENT_SECRET' }
]

/** A mistake the plugin's own check found, told in terms of the variable that set the option. */
function namingTheVariable (error: OAuthOptionsError): Error {
  const row = VARIABLES.find(({ path }) => error.path === path || error.path.startsWith(`${path}.`))
  if (row === undefined) return error
  return new ConfigError(`${row.variable} ${row.expected ?? error.expected}`)
}

/**
 * The plugin's `auth.oauth` from the MCP_OAUTH_* rows, checked together (the rows are read one by one) and by the
 * plugin's own option check; undefined when MCP_OAUTH_ISSUER is unset. Each mistake names the variable to fix. The
 * plugin's OAuth code is loaded only when MCP_OAUTH_ISSUER is set.
 */
export async function oauthFromSettings (settings: ServerSettings): Promise<OAuthOptions | undefined> {
  const oauth = settingsToOptions(settings)
  if (oauth === undefined) return undefined
  const { OAuthOptionsError, resolveOAuthOptions } = await import('../plugin/auth/oauth/oauth-options.js')
  try {
    resolveOAuthOptions(oauth)
  } catch (error) {
    throw error instanceof OAuthOptionsError ? namingTheVariable(error) : error
  }
  return oauth
}

function settingsToOptions (settings: ServerSettings): OAuthOptions | undefined {
  const issuer = url('MCP_OAUTH_ISSUER', settings.oauthIssuer)
  if (issuer === undefined) {
    const stray = NEEDS_ISSUER.find(([key]) => settings[key] !== undefined)
    if (stray !== undefined) throw new ConfigError(`${stray[1]} needs MCP_OAUTH_ISSUER: the authorization server whose access tokens this server accepts`)
    return undefined
  }
  const resource = url('MCP_RESOURCE_URL', settings.resourceUrl)
  if (resource === undefined) {
    throw new ConfigError('MCP_OAUTH_ISSUER needs MCP_RESOURCE_URL: this server\'s URL as clients reach it, e.g. https://mcp.example.com/mcp')
  }
  const { oauthClientId: clientId, oauthClientSecret: clientSecret } = settings
  const introspectionUrl = url('MCP_OAUTH_INTROSPECTION_URL', settings.oauthIntrospectionUrl)
  if ((clientId === undefined) !== (clientSecret === undefined) || (introspectionUrl !== undefined && clientId === undefined)) {
    throw new ConfigError('Token introspection needs MCP_OAUTH_CLIENT_ID and MCP_OAUTH_CLIENT_SECRET together (MCP_OAUTH_INTROSPECTION_URL defaults to the issuer\'s introspection endpoint)')
  }
  const oauth: OAuthOptions = { issuer, resource }
  if (settings.oauthScopes !== undefined) oauth.scopes = settings.oauthScopes.flatMap((scope) => scope.split(/\s+/)).filter((scope) => scope !== '')
  if (settings.oauthAudience !== undefined) oauth.audience = settings.oauthAudience
  const implications = scopeImplications(settings.oauthScopeImplications)
  if (implications !== undefined) oauth.scopeImplications = implications
  if (clientId !== undefined && clientSecret !== undefined) {
    oauth.introspection = introspectionUrl === undefined ? { clientId, clientSecret } : { url: introspectionUrl, clientId, clientSecret }
  }
  return oauth
}
