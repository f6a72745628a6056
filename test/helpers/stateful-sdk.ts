import type { TestContext } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js'

export interface StatefulClient {
  client: Client
  transport: StreamableHTTPClientTransport
  /** The elicitation requests the client was asked, in order. */
  elicitations: string[]
}

/**
 * An SDK client over Streamable HTTP that declares elicitation and answers every elicitation with `answer`;
 * closed when the test ends.
 */
export async function connectStateful (
  t: TestContext,
  url: string,
  token: string,
  answer: ElicitResult = { action: 'accept', content: { name: 'Ada' } }
): Promise<StatefulClient> {
  const client = new Client({ name: 'stateful-tests', version: '1.0.0' }, { capabilities: { elicitation: {} } })
  const elicitations: string[] = []
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    elicitations.push(request.params.message)
    return answer
  })
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } })
  await client.connect(transport)
  t.after(async () => { await client.close() })
  return { client, transport, elicitations }
}
