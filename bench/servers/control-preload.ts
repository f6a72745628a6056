/**
 * Preloaded (`node --import`) into `node server` as shipped, for M1's "as shipped" rows: the bench's control channel
 * (CPU time, forced GC, orderly exit) without changing the server. It announces nothing: the bench reads the
 * server's own "MCP server listening" line on stdout.
 */
import { serveControl } from './common.js'

serveControl(() => 0, async () => {})
