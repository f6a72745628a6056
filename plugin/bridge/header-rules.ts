import { configErrors } from '../errors.js'

/**
 * Which headers may reach a bridged route. Credentials never do: the MCP caller's identity travels in
 * `request.mcpBridge`, not in a token. Framing headers are the bridge's to set, and the MCP protocol's own mean
 * nothing to a route.
 */
const NEVER = [
  'authorization', 'proxy-authorization', 'cookie',
  'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect',
  'mcp-session-id', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'last-event-id'
]

/** Refused in `bridge.forwardHeaders`: the MCP request's own credentials, framing and protocol headers. */
const NOT_FORWARDED = new Set(NEVER)

/** Refused as tool arguments (a route's headers schema with `config.mcp.headers: true`): the above, and `host`. */
const NOT_ARGUMENTS = new Set([...NEVER, 'host'])

export function whyNotForwarded (header: string): string | undefined {
  if (!NOT_FORWARDED.has(header)) return undefined
  return header === 'authorization' || header === 'proxy-authorization' || header === 'cookie'
    ? 'credentials are never copied onto a bridged call: the route reads the MCP caller from request.mcpBridge'
    : 'the bridge sets framing and protocol headers itself'
}

export function whyNotArgument (header: string): string | undefined {
  if (header.startsWith('mcp-param-')) return 'Mcp-Param-* headers belong to the MCP protocol'
  if (!NOT_ARGUMENTS.has(header)) return undefined
  return header === 'authorization' || header === 'proxy-authorization' || header === 'cookie'
    ? 'credentials cannot be tool arguments: let your hook trust request.mcpBridge instead'
    : 'the bridge sets this header itself'
}

/** Checks the plugin's `bridge.forwardHeaders` and returns it lower-cased; a refused name throws with the reason. */
export function checkForwardHeaders (names: readonly string[]): string[] {
  return names.map((name) => {
    const header = name.toLowerCase()
    const why = whyNotForwarded(header)
    if (why !== undefined) throw configErrors.invalidOptions(`bridge.forwardHeaders cannot list "${name}": ${why}`)
    return header
  })
}
