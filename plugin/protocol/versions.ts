/** The MCP protocol revisions this host speaks, newest first. */

/** Revisions negotiated with `initialize` (the 2025 era and its predecessors). */
export const LEGACY_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07'] as const

export const LATEST_LEGACY_PROTOCOL_VERSION = LEGACY_PROTOCOL_VERSIONS[0]

/** What a Streamable HTTP request without an MCP-Protocol-Version header is assumed to speak (spec 2025-06-18). */
export const DEFAULT_HTTP_PROTOCOL_VERSION = '2025-03-26'

/** The legacy HTTP+SSE transport is defined by this revision. */
export const SSE_PROTOCOL_VERSION = '2024-11-05'

const legacy = new Set<string>(LEGACY_PROTOCOL_VERSIONS)

export function isSupportedLegacyVersion (version: string): boolean {
  return legacy.has(version)
}

/** The version to answer an `initialize` with: the client's when we speak it, else our newest. */
export function negotiateLegacyVersion (requested: unknown): string {
  return typeof requested === 'string' && legacy.has(requested) ? requested : LATEST_LEGACY_PROTOCOL_VERSION
}
