import type { AnyPrompt, AnyResource, AnyTool } from '../../plugin/core.js'
import { basicTools } from './fixture/basic-tools.js'
import { clientRequestTools } from './fixture/client-request-tools.js'
import { resources } from './fixture/resources.js'
import { prompts } from './fixture/prompts.js'
import { tools2026 } from './fixture/tools-2026.js'
import { prompts2026 } from './fixture/prompts-2026.js'

/**
 * What the official MCP conformance suite (@modelcontextprotocol/conformance, server scenarios) expects a server
 * to offer: the tools, resources and prompts of its reference "everything" server, with the same names,
 * arguments and results. Served by `node server --tools dist/test/conformance/fixture.js` for
 * `npm run test:conformance`; not part of the product.
 *
 * Grouped by protocol era. The 2025 era's scenarios (conformance 0.1.x, and the 2025-11-25 leg of 0.2) use
 * everything below. The 2026-07-28 era adds diagnostic and input-required tools and a prompt of its own
 * (`fixture/tools-2026.ts`, `fixture/prompts-2026.ts`); both eras are served from the same lists.
 *
 * Not mirrored: `test_reconnection` (scenario server-sse-polling, pending in the suite), which closes its
 * POST stream mid-call so that the client resumes with Last-Event-ID; handlers cannot do that.
 */
const tools: AnyTool[] = [...basicTools, ...clientRequestTools, ...tools2026]

const fixture: { tools: AnyTool[], resources: AnyResource[], prompts: AnyPrompt[] } = { tools, resources, prompts: [...prompts, ...prompts2026] }
export default fixture
