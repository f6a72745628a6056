/** Raw HTTP for the wire details an SDK client hides: statuses, headers, bodies. */
export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream'
}

export function rpc (method: string, params?: Record<string, unknown>, id: number | string = 1): Record<string, unknown> {
  return params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params }
}

export const INITIALIZE_PARAMS = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'raw-test', version: '1.0.0' }
}

export interface RawResponse {
  status: number
  headers: Headers
  text: string
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any
}

export async function request (url: string, init: RequestInit = {}): Promise<RawResponse> {
  const response = await fetch(url, init)
  const text = await response.text()
  let json: unknown
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: response.status, headers: response.headers, text, json }
}

/** POSTs a body (an object is sent as JSON) with the MCP headers, overridable per call. */
export async function post (url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return await request(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
}
