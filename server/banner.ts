/** What `node server` prints on stderr when it made a token for this run, so that a client can connect at once. */
export function startupBanner (baseUrl: string, token: string, sse: boolean): string {
  const mcpUrl = `${baseUrl}/mcp`
  const config = {
    mcpServers: {
      'fastify-mcp-host': { type: 'http', url: mcpUrl, headers: { Authorization: `Bearer ${token}` } }
    }
  }
  const lines = [
    '',
    'No MCP_TOKEN was given, so this run made one (it changes on every start):',
    '',
    `    ${token}`,
    '',
    `  Streamable HTTP   ${mcpUrl}`
  ]
  if (sse) lines.push(`  Legacy SSE        ${baseUrl}/sse`)
  lines.push(
    `  Health            ${baseUrl}/health`,
    '',
    'Client configuration (Claude Code, Cursor, VS Code: paste into the MCP servers settings):',
    '',
    JSON.stringify(config, null, 2).replace(/^/gm, '    '),
    '',
    `Try it: curl -s -X POST ${mcpUrl} -H 'Authorization: Bearer ${token}' \\`,
    '           -H \'Content-Type: application/json\' -H \'Accept: application/json, text/event-stream\' \\',
    '           -d \'{"jsonrpc":"2.0","id":1,"method":"tools/list"}\'',
    '',
    'For a fixed token: MCP_TOKEN=$(node server generate-key) node server',
    ''
  )
  return lines.join('\n')
}
