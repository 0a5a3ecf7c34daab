/**
 * Benchmark 3: the auth center (login with a test OTP, refresh with rotation)
 * against node-oidc-provider's token endpoint (client credentials with JWT
 * access tokens; refresh_token grant with rotation). Both servers run as
 * separate processes on 127.0.0.1, each with its own redis-server
 * (appendonly yes); autocannon runs here, contenders alternate every round.
 */
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type autocannon from 'autocannon'
import { startRedis, type RedisServer } from '@authcenter/testkit'
import {
  type Contender, type Options, type Result, type Table, type Target,
  compare, fmt, forkTs, log, machine, onExit, ratioText, row, stopChild, versions, writeResult
} from './harness.js'
import { load, type LoadResult } from './load.js'
import { CODE, MOBILES, startAuthCenterProcess, type AuthCenterProcess } from './servers/auth-center-process.js'

export { CODE, MOBILES }

const OURS_LOGIN = 'auth center: POST /auth/login (test OTP)'
const OURS_REFRESH = 'auth center: POST /auth/refresh'
const OIDC_CC = 'oidc-provider: client_credentials (Redis adapter)'
const OIDC_CC_MEM = 'oidc-provider: client_credentials (memory adapter)'
const OIDC_REFRESH = 'oidc-provider: refresh_token (Redis adapter)'
const OIDC_REFRESH_MEM = 'oidc-provider: refresh_token (memory adapter)'
const FLOOR = 'floor: sign + one EVALSHA'
const OURS_CC = 'auth center: client_credentials'
const OURS_REFRESH_NODE = 'auth center: POST /auth/refresh (AUTHCENTER_ED25519=node)'
const OURS_LOGIN_NODE = 'auth center: POST /auth/login (AUTHCENTER_ED25519=node)'
const CC_CLIENT_ID = 'bench-robot'
const CC_SCOPE = 'api:read'

export interface Oidc { child: ChildProcess, base: string, clientId: string, clientSecret: string }

/** The auth center as a process (servers/auth-center-process.ts); `storeEnv` picks its store (REDIS_URL, DATABASE_URL or both). */
export async function startAuthCenter (storeEnv: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<AuthCenterProcess> {
  return startAuthCenterProcess({ ...storeEnv, ...extraEnv })
}

export async function startOidc (redisUrl: string | undefined): Promise<Oidc> {
  const { child, message } = await forkTs<{ port: number, clientId: string, clientSecret: string }>(
    'servers/oidc-server.ts', [], { env: redisUrl !== undefined ? { BENCH_REDIS_URL: redisUrl } : {} })
  return { child, base: `http://127.0.0.1:${message.port}`, clientId: message.clientId, clientSecret: message.clientSecret }
}

export async function login (base: string, i: number): Promise<string> {
  const r = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mobile: MOBILES[i % MOBILES.length], code: CODE })
  })
  const body = await r.json() as { refresh_token?: string }
  if (r.status !== 200 || body.refresh_token === undefined) throw new Error(`login answered ${r.status}: ${JSON.stringify(body).slice(0, 200)}`)
  return body.refresh_token
}

export async function mint (oidc: Oidc, n: number): Promise<string[]> {
  const r = await fetch(`${oidc.base}/bench/mint?n=${n}`, { method: 'POST' })
  if (r.status !== 200) throw new Error(`mint answered ${r.status}: ${(await r.text()).slice(0, 300)}`)
  return (await r.json() as { tokens: string[] }).tokens
}

/**
 * Requests that chain refresh tokens: each token is presented exactly once,
 * and the one it is exchanged for goes back to the queue. With pipelining 1
 * every session's chain is strictly sequential (no reuse, no grace).
 * A failed exchange loses its chain; a spare session takes its place.
 */
export function chained (queue: string[], spares: string[], path: string, contentType: string, encode: (token: string) => string): {
  requests: autocannon.Request[]
  stats: { lostChains: number }
} {
  const stats = { lostChains: 0 }
  const requests: autocannon.Request[] = [{
    method: 'POST',
    path,
    headers: { 'content-type': contentType },
    setupRequest: (req) => {
      const token = queue.shift() ?? spares.shift() ?? 'exhausted'
      req.body = encode(token)
      return req
    },
    onResponse: (status, body) => {
      if (status === 200) {
        queue.push((JSON.parse(body) as { refresh_token: string }).refresh_token)
      } else {
        stats.lostChains++
      }
    }
  }]
  return { requests, stats }
}

/** The body of oidc-provider's client_credentials grant (client_secret_post). */
export function clientCredentialsBody (o: Oidc): string {
  return new URLSearchParams({ grant_type: 'client_credentials', client_id: o.clientId, client_secret: o.clientSecret, scope: 'api:read' }).toString()
}

/** A load of oidc-provider's client_credentials grant. */
export async function oidcClientCredentialsLoad (o: Oidc, seconds: number, connections: number): Promise<LoadResult> {
  return load({
    url: `${o.base}/token`,
    seconds,
    connections,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: clientCredentialsBody(o)
  })
}

/** The body of oidc-provider's refresh_token grant for one token (client_secret_post). */
export function oidcRefreshBody (o: Oidc, token: string): string {
  return new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: o.clientId, client_secret: o.clientSecret }).toString()
}

/**
 * POST /auth/login with the test OTP, the next test number on every request, from
 * `offset` on (the scale bench gives each replica its own share, so no two replicas
 * log one user in at once).
 */
export async function loginLoad (base: string, seconds: number, connections: number, offset = 0): Promise<LoadResult> {
  let i = offset
  return load({
    url: `${base}/auth/login`,
    seconds,
    connections,
    requests: [{
      method: 'POST',
      path: '/auth/login',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => { req.body = JSON.stringify({ mobile: MOBILES[i++ % MOBILES.length], code: CODE }); return req }
    }]
  })
}

/** A chained refresh load (see chained) over the tokens `seed` makes: one chain per connection, the rest spares. */
export async function refreshChainLoad (seconds: number, connections: number, seed: () => Promise<string[]>, base: string, path: string,
  contentType: string, encode: (token: string) => string): Promise<LoadResult & { lost: number }> {
  const tokens = await seed()
  const { requests, stats } = chained(tokens.slice(0, connections), tokens.slice(connections), path, contentType, encode)
  const r = await load({ url: base + path, seconds, connections, requests })
  return { ...r, lost: stats.lostChains }
}

/**
 * One sample per call, the first of each contender after a short untimed run that warms
 * up the JIT (and the server's pools); `extra` gives the last sample's latency columns.
 */
export function sampler (seconds: number, warmSeconds: number): {
  sample: (name: string, run: (secs: number) => Promise<LoadResult>) => Promise<number>
  extra: (name: string) => Record<string, number> | undefined
} {
  const last = new Map<string, LoadResult>()
  const warm = new Set<string>()
  return {
    async sample (name, run) {
      if (!warm.has(name)) { warm.add(name); await run(warmSeconds) }
      const r = await run(seconds)
      last.set(name, r)
      return r.rps
    },
    extra (name) {
      const r = last.get(name)
      return r === undefined ? undefined : { 'p50 ms': r.p50, 'p99 ms': r.p99, failed: r.non2xx + r.errors + r.timeouts }
    }
  }
}

export async function runAuthCenter (opts: Options): Promise<Result> {
  const started = performance.now()
  const rounds = opts.quick ? 3 : 5
  const seconds = opts.quick ? 1 : 5
  const connections = 10
  const withMemoryAdapter = !opts.quick
  const redisServers: RedisServer[] = []
  const removeHooks: Array<() => void> = []
  const children: ChildProcess[] = []
  const notes: string[] = []
  const tables: Table[] = []
  let oursError: string | undefined
  let nodeError: string | undefined
  let dataDir: string | undefined
  const tmpDirs: string[] = []

  try {
    const redisOurs = await startRedis({ persist: true })
    redisServers.push(redisOurs)
    removeHooks.push(onExit(() => shutdownRedis(redisOurs.port)))
    const redisOidc = await startRedis({ persist: true })
    redisServers.push(redisOidc)
    removeHooks.push(onExit(() => shutdownRedis(redisOidc.port)))

    // A confidential client of our own, for the like-for-like client_credentials row (issue #17).
    const ccSecret = randomBytes(32).toString('base64url')
    const clientsDir = mkdtempSync(join(tmpdir(), 'authcenter-bench-clients-'))
    tmpDirs.push(clientsDir)
    const clientsFile = join(clientsDir, 'clients.json')
    writeFileSync(clientsFile, JSON.stringify({
      clients: [{
        client_id: CC_CLIENT_ID, type: 'confidential', client_secret_sha256: createHash('sha256').update(ccSecret).digest('hex'),
        grant_types: ['client_credentials'], scope: CC_SCOPE
      }]
    }))
    const ccBody = new URLSearchParams({ grant_type: 'client_credentials', client_id: CC_CLIENT_ID, client_secret: ccSecret, scope: CC_SCOPE }).toString()

    let ours: { base: string } | undefined
    try {
      const s = await startAuthCenter({ REDIS_URL: redisOurs.url }, { AUTH_CLIENTS_FILE: clientsFile })
      children.push(s.child)
      dataDir = s.dataDir
      ours = s
      await login(s.base, 0) // proves the test OTP works
      const r = await fetch(`${s.base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: ccBody })
      if (r.status !== 200) throw new Error(`client_credentials answered ${r.status}: ${(await r.text()).slice(0, 200)}`)
      await r.body?.cancel()
    } catch (err) {
      oursError = `could not run: ${(err as Error).message.slice(0, 300)}`
      log(`auth center: ${oursError}`)
      ours = undefined
    }
    // The same auth center signing through node:crypto, on a Redis of its own: the libsodium share of login and refresh.
    let oursNode: { base: string } | undefined
    try {
      const redisNode = await startRedis({ persist: true })
      redisServers.push(redisNode)
      removeHooks.push(onExit(() => shutdownRedis(redisNode.port)))
      const s = await startAuthCenter({ REDIS_URL: redisNode.url }, { AUTHCENTER_ED25519: 'node' })
      children.push(s.child)
      tmpDirs.push(s.dataDir)
      await login(s.base, 0)
      oursNode = s
    } catch (err) {
      nodeError = `could not run: ${(err as Error).message.slice(0, 300)}`
      log(`auth center (node): ${nodeError}`)
    }
    // The floor route: the same signing backend and one EVALSHA on its own Redis (appendonly like ours).
    const redisFloor = await startRedis({ persist: true })
    redisServers.push(redisFloor)
    removeHooks.push(onExit(() => shutdownRedis(redisFloor.port)))
    const floorServer = await forkTs<{ port: number, backend: string }>('servers/floor-server.ts', [], { env: { BENCH_REDIS_URL: redisFloor.url } })
    children.push(floorServer.child)
    const floorBase = `http://127.0.0.1:${floorServer.message.port}`
    const oidc = await startOidc(redisOidc.url)
    children.push(oidc.child)
    const oidcMem = withMemoryAdapter ? await startOidc(undefined) : undefined
    if (oidcMem !== undefined) children.push(oidcMem.child)

    const { sample, extra } = sampler(seconds, opts.quick ? 0.5 : 1)

    // ---- refresh with rotation (first, so that the sessions made by the login table do not weigh on it)
    const refreshRun = async (secs: number, seed: () => Promise<string[]>, path: string, contentType: string, encode: (t: string) => string,
      base: string): Promise<LoadResult & { lost: number }> => refreshChainLoad(secs, connections, seed, base, path, contentType, encode)
    const seedCount = connections * 3
    const refresh: Contender[] = [
      {
        name: OURS_REFRESH,
        ...(oursError !== undefined ? { unsupported: oursError } : {}),
        measure: async () => sample(OURS_REFRESH, async (secs) => refreshRun(secs,
          async () => Promise.all(Array.from({ length: seedCount }, (_, i) => login(ours!.base, i))),
          '/auth/refresh', 'application/json', (t) => JSON.stringify({ refresh_token: t }), ours!.base))
      },
      {
        name: OIDC_REFRESH,
        measure: async () => sample(OIDC_REFRESH, async (secs) => refreshRun(secs, async () => mint(oidc, seedCount),
          '/token', 'application/x-www-form-urlencoded',
          (t) => oidcRefreshBody(oidc, t),
          oidc.base))
      },
      {
        name: FLOOR,
        note: `bare Fastify route: one EVALSHA (HGETALL + HSET + PEXPIRE on one hash) and one EdDSA access token of the auth center's claims through the same ed25519() backend (${floorServer.message.backend}); a fresh key of the same algorithm and size (the auth center's key is sealed; signing cost does not depend on the key)`,
        measure: async () => sample(FLOOR, async (secs) => refreshRun(secs,
          async () => Array.from({ length: seedCount }, (_, i) => `s${i}.${randomBytes(8).toString('base64url')}`),
          '/floor', 'application/json', (t) => JSON.stringify({ refresh_token: t }), floorBase))
      },
      {
        name: OURS_REFRESH_NODE,
        ...(nodeError !== undefined ? { unsupported: nodeError } : {}),
        note: 'the same auth center with AUTHCENTER_ED25519=node (node:crypto signs), its own Redis',
        measure: async () => sample(OURS_REFRESH_NODE, async (secs) => refreshRun(secs,
          async () => Promise.all(Array.from({ length: seedCount }, (_, i) => login(oursNode!.base, i))),
          '/auth/refresh', 'application/json', (t) => JSON.stringify({ refresh_token: t }), oursNode!.base))
      }
    ]
    if (oidcMem !== undefined) {
      refresh.push({
        name: OIDC_REFRESH_MEM,
        note: 'in-memory adapter: rotations are not durable (not equivalent; for scale only)',
        measure: async () => sample(OIDC_REFRESH_MEM, async (secs) => refreshRun(secs, async () => mint(oidcMem, seedCount),
          '/token', 'application/x-www-form-urlencoded',
          (t) => oidcRefreshBody(oidcMem, t),
          oidcMem.base))
      })
    }
    tables.push(await compare({
      title: `Refresh with rotation, chained (each session presents only the token it got last; ${connections} connections, ${seconds} s per sample)`,
      unit: 'refreshes/s',
      baseline: OIDC_REFRESH,
      rounds,
      contenders: refresh,
      extra,
      log,
      notes: [
        'Every refresh token is presented exactly once: a successful answer puts its new refresh token back in a shared queue, and with pipelining 1 each chain is strictly sequential (no reuse, no grace window). "failed" counts non-200 answers and errors; each one ends a chain.'
      ]
    }))
    // ---- new tokens: login vs client credentials
    const issue: Contender[] = [
      {
        name: OURS_LOGIN,
        ...(oursError !== undefined ? { unsupported: oursError } : {}),
        measure: async () => sample(OURS_LOGIN, async (secs) => loginLoad(ours!.base, secs, connections))
      },
      {
        name: OIDC_CC,
        measure: async () => sample(OIDC_CC, async (secs) => oidcClientCredentialsLoad(oidc, secs, connections))
      },
      {
        name: OURS_CC,
        ...(oursError !== undefined ? { unsupported: oursError } : {}),
        note: 'POST /oauth/token, a confidential client of AUTH_CLIENTS_FILE (client_secret_post, SHA-256 of the secret compared in constant time), scope api:read: the same grant as theirs; since issue #17 neither stores anything per token (ours: a random sid per token, revoked through the denylist)',
        measure: async () => sample(OURS_CC, async (secs) => load({
          url: `${ours!.base}/oauth/token`,
          seconds: secs,
          connections,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: ccBody
        }))
      },
      {
        name: OURS_LOGIN_NODE,
        ...(nodeError !== undefined ? { unsupported: nodeError } : {}),
        note: 'the same auth center with AUTHCENTER_ED25519=node',
        measure: async () => sample(OURS_LOGIN_NODE, async (secs) => loginLoad(oursNode!.base, secs, connections))
      }
    ]
    if (oidcMem !== undefined) {
      issue.push({
        name: OIDC_CC_MEM,
        note: 'in-memory adapter: nothing durable (client credentials tokens are JWTs and not stored either way)',
        measure: async () => sample(OIDC_CC_MEM, async (secs) => oidcClientCredentialsLoad(oidcMem, secs, connections))
      })
    }
    tables.push(await compare({
      title: `New tokens: login with a test OTP vs client credentials (${connections} connections, ${seconds} s per sample)`,
      unit: 'tokens/s',
      baseline: OIDC_CC,
      rounds,
      contenders: issue,
      extra,
      log,
      notes: [
        'Login creates a session in Redis (session + user index) and issues an EdDSA access token and a refresh token; client credentials (both servers) issues only an EdDSA JWT access token and stores nothing. They are the cheapest "new token" path of each server, not the same work.'
      ]
    }))

  } finally {
    await Promise.all(children.map((c) => stopChild(c)))
    await Promise.all(redisServers.map((r) => r.close().catch(() => {})))
    for (const remove of removeHooks) remove()
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
    for (const d of tmpDirs) rmSync(d, { recursive: true, force: true })
  }

  const targets: Target[] = []
  const rt = tables[0]!
  const oursRow = row(rt, OURS_REFRESH)
  const oidcRow = row(rt, OIDC_REFRESH)
  const ratio = oursRow?.median != null && oidcRow?.median != null ? oursRow.median / oidcRow.median : null
  const failed = Number(oursRow?.extra?.failed ?? 0)
  targets.push({
    name: 'auth center refresh ≥ 3 × oidc-provider token endpoint (refresh_token grant, Redis), every rotation durable',
    target: '≥ 3.00×, no failed rotation',
    value: `${ratioText(ratio)} (${fmt(oursRow?.median)} vs ${fmt(oidcRow?.median)} refreshes/s; p99 ${fmt(Number(oursRow?.extra?.['p99 ms']))} vs ${fmt(Number(oidcRow?.extra?.['p99 ms']))} ms; failed ${fmt(failed)})`,
    met: ratio === null ? null : ratio >= 3 && failed === 0,
    ...(oursError !== undefined ? { why: oursError } : {})
  })
  const ratioOf = (table: Table, a: string, b: string): { ratio: number | null, a: number | null | undefined, b: number | null | undefined } => {
    const ra = row(table, a)?.median
    const rb = row(table, b)?.median
    return { ratio: ra != null && rb != null ? ra / rb : null, a: ra, b: rb }
  }
  const it = tables[1]!
  const floor = ratioOf(rt, OURS_REFRESH, FLOOR)
  targets.push({
    name: 'auth center refresh ≥ 0.7 × the floor route (sign + one EVALSHA), Redis on both, same run',
    target: '≥ 0.70×',
    value: `${ratioText(floor.ratio)} (${fmt(floor.a)} vs ${fmt(floor.b)} refreshes/s)`,
    met: floor.ratio === null ? null : floor.ratio >= 0.7
  })
  const cc = ratioOf(it, OURS_CC, OIDC_CC)
  targets.push({
    name: 'auth center client_credentials ≥ 2 × oidc-provider client_credentials (Redis), same run',
    target: '≥ 2.00×',
    value: `${ratioText(cc.ratio)} (${fmt(cc.a)} vs ${fmt(cc.b)} tokens/s)`,
    met: cc.ratio === null ? null : cc.ratio >= 2
  })
  const lg = ratioOf(it, OURS_LOGIN, OIDC_CC)
  targets.push({
    name: 'auth center POST /auth/login (test OTP, a session written) ≥ 1 × oidc-provider client_credentials, same run',
    target: '≥ 1.00×',
    value: `${ratioText(lg.ratio)} (${fmt(lg.a)} vs ${fmt(lg.b)} tokens/s)`,
    met: lg.ratio === null ? null : lg.ratio >= 1
  })
  const sr = ratioOf(rt, OURS_REFRESH, OURS_REFRESH_NODE)
  const sl = ratioOf(it, OURS_LOGIN, OURS_LOGIN_NODE)
  targets.push({
    name: 'signing share: libsodium on / off (AUTHCENTER_ED25519=node), refresh and login, same run',
    target: 'reported (no fixed target)',
    value: `refresh ${ratioText(sr.ratio)} (${fmt(sr.a)} vs ${fmt(sr.b)}/s); login ${ratioText(sl.ratio)} (${fmt(sl.a)} vs ${fmt(sl.b)}/s)`,
    met: null,
    ...(nodeError !== undefined ? { why: nodeError } : {})
  })

  notes.push(
    'Both servers are Node processes on 127.0.0.1, each with its own redis-server (appendonly yes, appendfsync everysec: the default of Redis persistence; neither server fsyncs per write). The auth center runs with LOG_LEVEL=warn (no per-request log lines); oidc-provider has no request logging.',
    'Both sign EdDSA (Ed25519) access tokens of 120 s in RFC 9068 shape (typ at+jwt). Both rotate the refresh token on every use and revoke on reuse.',
    'What differs. oidc-provider: the client authenticates on every token request (client_secret_post, a constant-time secret compare); the auth center\'s first-party refresh has no client authentication. oidc-provider\'s rotation is find → consume (HSET) → save new token: three round trips and not atomic (two concurrent uses of one token can both succeed); the auth center decides rotation, grace and reuse in one Lua script. oidc-provider\'s Redis adapter is the minimal shape of its upstream example (JSON payloads, a per-grant list of token keys), written here because the package ships none.',
    'oidc-provider issues refresh tokens only through the authorization code flow. To drive the refresh_token grant without a browser login and consent, the bench creates the Grant and the first RefreshToken with the provider\'s own models (what the code exchange saves), outside the timed part; every refresh after that is the real token endpoint.',
    Number(process.versions.node.split('.')[0]) < 22
      ? `oidc-provider ${versions(['oidc-provider'])['oidc-provider']} prints "Unsupported runtime" on Node 20 (it supports Node 22 LTS and later) but runs; it declares no engines field.`
      : `oidc-provider ${versions(['oidc-provider'])['oidc-provider']} supports this runtime (Node 22 LTS and later; on Node 20 it prints "Unsupported runtime" but runs).`
  )
  if (oursError !== undefined) notes.push(`The auth center ${oursError}`)

  const result: Result = {
    name: 'auth-center',
    title: 'Auth center vs node-oidc-provider, token endpoints',
    date: new Date().toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
    mode: opts.quick ? 'quick' : 'full',
    rounds,
    machine: machine(),
    versions: { ...versions(['@authcenter/auth-center', 'oidc-provider', 'fastify', 'ioredis', 'jose', 'autocannon']), 'redis-server': redisVersion() },
    tables,
    targets,
    notes
  }
  writeResult(result)
  return result
}

/** For an abnormal exit (timeout, signal, crash): redis-server is not our child's child, so ask it to stop (best effort). */
export function shutdownRedis (port: number): void {
  spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore', timeout: 2000 })
}

export function redisVersion (): string {
  try {
    const out = execFileSync(process.env.REDIS_SERVER_BIN ?? 'redis-server', ['--version'], { encoding: 'utf8' }) as string
    return /v=(\S+)/.exec(out)?.[1] ?? 'unknown'
  } catch {
    return 'unknown'
  }
}
