import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import Fastify from 'fastify'
import mcpPlugin from '../../plugin/index.js'
import { TOKEN } from '../helpers/app.js'
import { fixtureTools } from '../helpers/fixture-tools.js'
import { startApp, AUTH_HEADER } from '../helpers/app.js'
import { MCP_HEADERS, rpc } from '../helpers/raw-http.js'
import { hostnameOf } from '../../plugin/guards/dns-rebinding.js'

/** fetch will not send a forged Host header; node:http will. */
async function postWith (baseUrl: string, headers: Record<string, string>): Promise<{ status: number, body: any }> {
  const url = new URL(`${baseUrl}/mcp`)
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...MCP_HEADERS, ...AUTH_HEADER, ...headers } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk }).on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) })
      })
    })
    req.on('error', reject)
    req.end(JSON.stringify(rpc('ping')))
  })
}

describe('DNS-rebinding protection on a loopback-bound server', () => {
  test('a foreign Host header gets 403 with a JSON-RPC error naming the option to change', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await postWith(baseUrl, { host: 'evil.example.com' })
    assert.equal(response.status, 403)
    assert.equal(response.body.error.code, -32000)
    assert.match(response.body.error.message, /Host "evil.example.com" is not allowed.*allowedHosts/)
  })

  test('a foreign Origin gets 403 even with a loopback Host', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await postWith(baseUrl, { origin: 'http://evil.example.com' })
    assert.equal(response.status, 403)
    assert.match(response.body.error.message, /Origin "http:\/\/evil.example.com" is not allowed.*allowedOrigins/)
  })

  test('loopback hosts and origins are served, and so are requests without an Origin', async (t) => {
    const { baseUrl } = await startApp(t)
    const port = new URL(baseUrl).port
    const variants: Array<Record<string, string>> = [{}, { host: `localhost:${port}` }, { origin: `http://localhost:${port}` }, { host: `[::1]:${port}`, origin: 'http://127.0.0.1:6274' }]
    for (const headers of variants) {
      const response = await postWith(baseUrl, headers)
      assert.equal(response.status, 200, JSON.stringify(headers))
    }
  })

  test('each request is judged by its own Host: alternating allowed and foreign hosts on one server', async (t) => {
    const { baseUrl } = await startApp(t)
    const port = new URL(baseUrl).port
    const sequence = [`127.0.0.1:${port}`, 'evil.example.com', 'evil.example.com', `localhost:${port}`, 'evil.example.com:80', `127.0.0.1:${port}`]
    const statuses = []
    for (const host of sequence) statuses.push((await postWith(baseUrl, { host })).status)
    assert.deepEqual(statuses, [200, 403, 403, 200, 403, 200])
  })

  test('allowedHosts and allowedOrigins replace the loopback defaults', async (t) => {
    const { baseUrl } = await startApp(t, { allowedHosts: ['mcp.example.com'], allowedOrigins: ['https://app.example.com'] })
    assert.equal((await postWith(baseUrl, { host: 'mcp.example.com' })).status, 200)
    assert.equal((await postWith(baseUrl, { host: 'mcp.example.com', origin: 'https://app.example.com' })).status, 200)
    assert.equal((await postWith(baseUrl, { host: 'mcp.example.com', origin: 'https://other.example.com' })).status, 403)
    assert.equal((await postWith(baseUrl, {})).status, 403, 'the loopback Host is no longer on the list')
  })

  test('an app.inject warm-up before listen() does not switch the checks off: they follow the address once it is known', async (t) => {
    const app = Fastify({ logger: false })
    await app.register(mcpPlugin, { auth: { tokens: [TOKEN] }, tools: fixtureTools })
    t.after(async () => { await app.close() })
    for (const host of ['localhost:80', 'evil.example.com']) {
      const warmUp = await app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...AUTH_HEADER, host }, payload: rpc('ping') })
      assert.equal(warmUp.statusCode, 200, `the in-process warm-up with Host ${host} is served`)
    }
    await app.listen({ port: 0, host: '127.0.0.1' })
    const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    assert.equal((await postWith(baseUrl, { host: 'evil.example.com' })).status, 403, 'the Host judged before listen() is judged again')
    assert.equal((await postWith(baseUrl, { host: 'other.example.com' })).status, 403)
    assert.equal((await postWith(baseUrl, { origin: 'http://localhost:5173' })).status, 200, 'a loopback browser Origin is served')
    assert.equal((await postWith(baseUrl, {})).status, 200)
  })

  test('the health check is not guarded', async (t) => {
    const { baseUrl } = await startApp(t)
    const url = new URL(`${baseUrl}/health`)
    const status = await new Promise<number>((resolve, reject) => {
      http.get({ host: url.hostname, port: url.port, path: url.pathname, headers: { host: 'lb.internal' } }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      }).on('error', reject)
    })
    assert.equal(status, 200)
  })
})

test('hostnameOf strips the port, keeping IPv6 brackets', () => {
  assert.equal(hostnameOf('Example.com:3100'), 'example.com')
  assert.equal(hostnameOf('example.com'), 'example.com')
  assert.equal(hostnameOf('[::1]:3100'), '[::1]')
})
