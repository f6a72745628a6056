import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { checkAnswer, load, summarize, type LoadRun } from '../lib/load.js'
import { ratio, type Section } from '../lib/report.js'
import { fmt, fmtInt } from '../lib/stats.js'
import { benchCall } from '../servers/common.js'
import { BENCH_AUDIENCE, BENCH_ISSUER } from '../servers/jwks-stub.js'
import type { StartServer } from './m1-throughput.js'
import type { Servers, Settings } from './context.js'

/** A key pair, its public set for the server, and a JWT access token signed with it (valid for the whole run). */
async function signedToken (): Promise<{ jwks: string, token: string }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const jwks = JSON.stringify({ keys: [{ ...await exportJWK(publicKey), kid: 'bench-key', alg: 'RS256', use: 'sig' }] })
  const token = await new SignJWT({ scope: 'mcp:tools', client_id: 'bench-client' })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench-key', typ: 'at+jwt' })
    .setIssuer(BENCH_ISSUER)
    .setAudience(BENCH_AUDIENCE)
    .setSubject('bench-user')
    .setIssuedAt()
    .setExpirationTime('4h')
    .sign(privateKey)
  return { jwks, token }
}

/**
 * M5: what OAuth costs per request. Stateless `tools/call` with a static token (the M1 server) against the same
 * call with a JWT access token (a server in OAuth mode, `BENCH_AUTH=jwt`), in alternating rounds. Every request
 * carries the same token, as a client does between refreshes: the figure is the verified-token cache's path
 * (a SHA-256 of the token and a map lookup); the signature is checked once.
 */
export async function measureOAuth (servers: Servers, settings: Settings, start: StartServer, log: (line: string) => void): Promise<Section> {
  const { jwks, token } = await signedToken()
  const jwtServer = await start('ours (OAuth, JWT)', 'ours', { BENCH_AUTH: 'jwt', BENCH_JWKS: jwks })
  const jwtCall = benchCall('2025', token)
  const staticServer = servers.ours
  const runs = { static: [] as LoadRun[], jwt: [] as LoadRun[] }
  try {
    await checkAnswer(staticServer)
    await checkAnswer(jwtServer, jwtCall)
    if (settings.warmup > 0) {
      await load(staticServer, settings.warmup, settings.connections)
      await load(jwtServer, settings.warmup, settings.connections, jwtCall)
    }
    const perRound = Math.max(1, Math.floor(settings.duration / settings.rounds))
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? ['static', 'jwt'] as const : ['jwt', 'static'] as const
      for (const kind of order) {
        const run = kind === 'static'
          ? await load(staticServer, perRound, settings.connections)
          : await load(jwtServer, perRound, settings.connections, jwtCall)
        runs[kind].push(run)
        log(`M5 round ${round + 1}: ${kind} ${fmtInt(run.requests / run.seconds)} req/s, ${fmt(run.cpuPerRequestUs, 1)} µs CPU per request${run.errors > 0 ? `, ${run.errors} errors` : ''}`)
      }
    }
  } finally {
    await jwtServer.stop()
  }
  const jwt = summarize(jwtServer.name, runs.jwt)
  const plain = summarize(staticServer.name, runs.static)
  return {
    title: 'M5 OAuth: stateless tools/call with a JWT vs a static token',
    rows: [
      { measure: 'M5 req/s (JWT / static token)', ours: fmtInt(jwt.reqPerSec), ceiling: fmtInt(plain.reqPerSec), ratio: ratio(jwt.reqPerSec, plain.reqPerSec), target: '', pass: undefined },
      { measure: 'M5 latency p99 (ms)', ours: fmt(jwt.p99, 3), ceiling: fmt(plain.p99, 3), ratio: ratio(jwt.p99, plain.p99), target: '', pass: undefined },
      { measure: 'M5 server CPU per request (µs)', ours: fmt(jwt.cpuPerRequestUs, 1), ceiling: fmt(plain.cpuPerRequestUs, 1), ratio: ratio(jwt.cpuPerRequestUs, plain.cpuPerRequestUs), target: '', pass: undefined }
    ],
    notes: [
      'Ours = the plugin in OAuth mode (RS256 JWT, keys from a loopback JWKS, audience and issuer checked); ceiling column = the same plugin with a static token (the M1 server).',
      `${jwt.errors + plain.errors} errors.`
    ]
  }
}
