/**
 * Benchmark 5 (issue #4): the revocation feed.
 *
 * - Propagation: the auth center (in this process, Redis store, real redis-server)
 *   revokes a session through its admin API; a verifier in another process
 *   (`revocation: { redis }`) verifies that session's access token in a tight loop.
 *   Latency = first refusal at the verifier − the revoke call returning here.
 * - Verify cost with the revocation feed on versus off (same tokens, same run,
 *   alternating in chunks), in a child process, with 10,000 denylist entries loaded.
 * - Verifier heap with 1,000,000 denylist entries (100,000 in quick mode), in a fresh
 *   `--expose-gc` process, against a verifier on an empty denylist.
 */
import { randomBytes } from 'node:crypto'
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { build, loadConfig } from '@authcenter/auth-center'
import { freePort, startRedis, type RedisServer } from '@authcenter/testkit'
import {
  BENCH_DIR, type Options, type Result, type Row, type Table, type Target,
  fmt, forkTs, log, machine, median, onExit, ratioText, stopChild, versions, writeResult
} from './harness.js'

const CODE = '123456'
// 1000 distinct users, so that no user piles up sessions (one session each in a full run).
const MOBILES = Array.from({ length: 1000 }, (_, i) => `+861380000${String(i).padStart(4, '0')}`)
const AUDIENCE = 'authcenter'
const WARMUP = 20

const now = (): number => performance.timeOrigin + performance.now()

/** Nearest-rank percentile of sorted values. */
function pct (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

function distRow (name: string, values: readonly number[], note?: string): Row {
  const s = [...values].sort((a, b) => a - b)
  return {
    contender: name,
    median: pct(s, 0.5),
    samples: [...values],
    min: s[0] ?? null,
    max: s[s.length - 1] ?? null,
    ratio: null,
    ...(note !== undefined ? { note } : {}),
    extra: { 'p90 ms': pct(s, 0.9), 'p99 ms': pct(s, 0.99), 'max ms': s[s.length - 1] ?? NaN, 'n': String(s.length), '≤ 0 ms': String(s.filter((v) => v <= 0).length) }
  }
}

/** Writes `count` session entries `s:<22-char id>=<revokedAtMs>:<expiresAtMs>` to `<prefix>deny`, plus the epoch. */
async function writeDenylist (redis: Redis, prefix: string, count: number, epochMs: number): Promise<void> {
  await redis.del(`${prefix}deny`)
  await redis.set(`${prefix}epoch`, `${epochMs}:bench`)
  const revokedAt = Date.now()
  const value = `${revokedAt}:${revokedAt + 3_600_000}`
  const PIPELINE = 10_000
  const PER_HSET = 1000
  for (let i = 0; i < count; i += PIPELINE) {
    const p = redis.pipeline()
    const n = Math.min(PIPELINE, count - i)
    for (let j = 0; j < n; j += PER_HSET) {
      const args: string[] = []
      for (let k = 0; k < Math.min(PER_HSET, n - j); k++) args.push(`s:${randomBytes(16).toString('base64url')}`, value)
      p.hset(`${prefix}deny`, ...args)
    }
    await p.exec()
  }
  const size = await redis.hlen(`${prefix}deny`)
  if (size !== count) throw new Error(`denylist has ${size} entries, expected ${count}`)
}

interface WatchReply { id: number, ok?: boolean, error?: string, t1?: number | null, tApplied?: number | null, code?: string, calls?: number }

/** Requests to the watch worker, matched by id: each gets two answers (verified once, then refused). */
function watcher (child: ChildProcess): (msg: { id: number, token: string, sid: string }, timeoutMs: number) => { verified: Promise<WatchReply>, refused: Promise<WatchReply> } {
  const waiting = new Map<number, Array<(r: WatchReply) => void>>()
  child.on('message', (m: WatchReply) => {
    const q = waiting.get(m.id)
    const resolve = q?.shift()
    if (q !== undefined && q.length === 0) waiting.delete(m.id)
    resolve?.(m)
  })
  const within = async (p: Promise<WatchReply>, ms: number, what: string): Promise<WatchReply> => {
    let timer: NodeJS.Timeout | undefined
    const t = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`revocation worker: no ${what} answer within ${ms} ms`)), ms) })
    try { return await Promise.race([p, t]) } finally { clearTimeout(timer) }
  }
  return (msg, timeoutMs) => {
    const resolvers: Array<(r: WatchReply) => void> = []
    const verified = new Promise<WatchReply>((resolve) => resolvers.push(resolve))
    const refused = new Promise<WatchReply>((resolve) => resolvers.push(resolve))
    waiting.set(msg.id, resolvers)
    child.send(msg)
    return { verified: within(verified, timeoutMs, 'first verify'), refused: within(refused, timeoutMs, 'refusal') }
  }
}

export async function runRevocation (opts: Options): Promise<Result> {
  const started = performance.now()
  const sessions = opts.quick ? 200 : 1000
  const costRounds = opts.quick ? 5 : 9
  const costPool = opts.quick ? 2000 : 4000
  const costEntries = 10_000
  const memEntries = opts.quick ? 100_000 : 1_000_000
  const adminToken = randomBytes(24).toString('base64url')
  const tables: Table[] = []
  const notes: string[] = []
  const children: ChildProcess[] = []
  const removeHooks: Array<() => void> = []
  let redisServer: RedisServer | undefined
  let redis: Redis | undefined
  let app: Awaited<ReturnType<typeof build>> | undefined
  let dataDir: string | undefined
  const runs = new Map<'redis' | 'http', { propagation: number[], fromSent: number[], callMs: number[], appliedToRefused: number[], returnedToApplied: number[], failures: string[], entries: number }>()
  const connections = opts.quick ? 200 : 1000
  let idle: { before: { rssMiB: number, cpuPct: number }, after: { rssMiB: number, cpuPct: number }, heartbeats: number } | undefined
  let costOn: number[] = []
  let costOff: number[] = []
  let costLoaded = 0
  const verifierOptions = readFileSync(join(BENCH_DIR, 'node_modules', '@authcenter', 'verifier', 'dist', 'options.d.ts'), 'utf8')
  // A verified-token cache is being added to the verifier: turn it off for the cost table when the option exists.
  const hasCacheOption = /^\s*cache\??\s*:/m.test(verifierOptions)
  const mem = new Map<string, { before: number, after: number, loadMs: number, entries: number, rss: number }>()

  try {
    redisServer = await startRedis({ persist: true })
    const port = redisServer.port
    // An abnormal exit (timeout, signal) skips finally: ask redis-server to stop (it is not a tracked child).
    removeHooks.push(onExit(() => { spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore', timeout: 2000 }) }))
    redis = new Redis(redisServer.url, { lazyConnect: false, maxRetriesPerRequest: 1 })

    // ---- the auth center, in this process
    dataDir = mkdtempSync(join(tmpdir(), 'authcenter-bench-rev-'))
    // The HTTP feed is found through the issuer's metadata: the issuer is the real address.
    const acPort = await freePort()
    const ISSUER = `http://127.0.0.1:${acPort}`
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      REDIS_URL: redisServer.url,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      AUTH_DATA_DIR: dataDir,
      AUTH_ADMIN_TOKEN: adminToken,
      SMS_TEST_OTP: MOBILES.map((m) => `${m}:${CODE}`).join(','),
      LOG_LEVEL: 'error'
    })
    app = await build(config)
    await app.listen({ host: '127.0.0.1', port: acPort })
    const base = ISSUER

    const login = async (i: number): Promise<{ token: string, sid: string }> => {
      const r = await fetch(`${base}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mobile: MOBILES[i % MOBILES.length], code: CODE })
      })
      const body = await r.json() as { access_token?: string, session_id?: string }
      if (r.status !== 200 || body.access_token === undefined || body.session_id === undefined) {
        throw new Error(`login answered ${r.status}: ${JSON.stringify(body).slice(0, 200)}`)
      }
      return { token: body.access_token, sid: body.session_id }
    }

    for (const transport of ['redis', 'http'] as const) {
    // ---- the verifier, in another process, following the feed through Redis or over HTTP
    const { child, message } = await forkTs<{ ready: boolean, entries: number }>('servers/revocation-worker.ts',
      ['watch', transport === 'redis' ? redisServer.url : 'http', ISSUER, AUDIENCE, `${base}/.well-known/jwks.json`], { timeoutMs: 30_000 })
    children.push(child)
    const watch = watcher(child)
    const run = { propagation: [] as number[], fromSent: [] as number[], callMs: [] as number[], appliedToRefused: [] as number[], returnedToApplied: [] as number[], failures: [] as string[], entries: message.entries }
    runs.set(transport, run)
    const { propagation, fromSent, callMs, appliedToRefused, returnedToApplied, failures } = run
    const offset = transport === 'redis' ? 0 : sessions + WARMUP
    log(`revocation: propagation over ${sessions} revocations (+${WARMUP} warm-up), ${transport} transport`)
    for (let i = offset; i < offset + sessions + WARMUP; i++) {
      const { token, sid } = await login(i)
      const w = watch({ id: i, token, sid }, 15_000)
      const first = await w.verified
      if (first.ok !== true) throw new Error(`the verifier refused a fresh token: ${first.error ?? ''}`)
      const tSent = now()
      const r = await fetch(`${base}/admin/sessions/${encodeURIComponent(sid)}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` } })
      const t0 = now()
      await r.arrayBuffer()
      if (r.status !== 204) throw new Error(`DELETE /admin/sessions answered ${r.status}`)
      const done = await w.refused
      if (i < offset + WARMUP) continue
      if (done.t1 === null || done.t1 === undefined || done.code !== 'TOKEN_REVOKED') {
        failures.push(`${done.code ?? 'no answer'}`)
        continue
      }
      propagation.push(done.t1 - t0)
      fromSent.push(done.t1 - tSent)
      callMs.push(t0 - tSent)
      if (typeof done.tApplied === 'number') {
        appliedToRefused.push(done.t1 - done.tApplied)
        returnedToApplied.push(done.tApplied - t0)
      }
      if ((i - offset - WARMUP + 1) % 200 === 0) log(`  revocation ${transport} | ${i - offset - WARMUP + 1}/${sessions} | p50 so far ${fmt(median(propagation))} ms`)
    }
    await stopChild(child)
    }

    // ---- the auth center's cost of many connected verifiers (streams held open, idle)
    log(`revocation: ${connections} connected feed followers, idle`)
    {
      const tokenRes = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('dev-revocations:dev-revocations-secret-not-for-production').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&scope=revocations%3Aread'
      })
      const { access_token: feedToken } = await tokenRes.json() as { access_token: string }
      const sampleIdle = async (ms: number): Promise<{ rssMiB: number, cpuPct: number }> => {
        const cpu0 = process.cpuUsage()
        const t0 = performance.now()
        await new Promise((resolve) => setTimeout(resolve, ms))
        const cpu = process.cpuUsage(cpu0)
        return { rssMiB: process.memoryUsage().rss / 2 ** 20, cpuPct: (cpu.user + cpu.system) / 1000 / (performance.now() - t0) * 100 }
      }
      global.gc?.()
      const before = await sampleIdle(10_000)
      const { child: clients } = await forkTs<{ open: number }>('servers/feed-clients.ts', [`${base}/revocations/stream`, feedToken, String(connections)], { timeoutMs: 120_000 })
      children.push(clients)
      const hub = (app as unknown as { revocationHub: { connections: number } }).revocationHub
      if (hub.connections !== connections) throw new Error(`${hub.connections} streams open, expected ${connections}`)
      const after = await sampleIdle(10_000)
      const counted = await new Promise<{ heartbeats: number }>((resolve) => { clients.once('message', (m) => resolve(m as { heartbeats: number })); clients.send('count') })
      idle = { before, after, heartbeats: counted.heartbeats }
      await stopChild(clients)
    }
    await app.close()
    app = undefined

    // ---- verify cost, revocation on vs off
    await writeDenylist(redis, 'ac:', costEntries, Date.now() - 60_000)
    log(`revocation: verify cost on vs off (${costRounds} rounds of ${costPool} first-time EdDSA tokens, ${costEntries.toLocaleString('en-US')} entries)`)
    {
      const { message: cost, child: c } = await forkTs<{ on: number[], off: number[], entries: number }>('servers/revocation-worker.ts',
        ['cost', redisServer.url, 'ac:', String(costRounds), String(costPool), '100', hasCacheOption ? 'off' : 'none'], { timeoutMs: 300_000 })
      children.push(c)
      costOn = cost.on
      costOff = cost.off
      costLoaded = cost.entries
      await stopChild(c)
    }

    // ---- memory with many entries, against an empty denylist
    log(`revocation: writing ${memEntries.toLocaleString('en-US')} denylist entries`)
    const tw = performance.now()
    await writeDenylist(redis, 'ac:', memEntries, Date.now() - 60_000)
    await redis.set('empty:epoch', `${Date.now() - 60_000}:bench`)
    await redis.del('empty:deny')
    log(`revocation: written in ${((performance.now() - tw) / 1000).toFixed(1)} s`)
    for (const prefix of ['empty:', 'ac:']) {
      const { message: m, child: c } = await forkTs<{ before: number, after: number, loadMs: number, entries: number, rss: number }>('servers/revocation-worker.ts',
        ['memory', redisServer.url, prefix], { execArgv: ['--expose-gc', '--max-old-space-size=2048'], timeoutMs: 120_000 })
      children.push(c)
      mem.set(prefix, m)
      log(`revocation: memory ${prefix} ${m.entries} entries, +${fmt((m.after - m.before) / 2 ** 20)} MiB, loaded in ${fmt(m.loadMs)} ms`)
      await stopChild(c)
    }
  } finally {
    await Promise.all(children.map((c) => stopChild(c)))
    if (app !== undefined) await app.close().catch(() => {})
    redis?.disconnect()
    await redisServer?.close().catch(() => {})
    for (const remove of removeHooks) remove()
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
  }

  // ---- tables
  for (const [transport, run] of runs) {
    const { propagation, fromSent, callMs, returnedToApplied, appliedToRefused, failures } = run
    tables.push({
      title: `Propagation over ${transport === 'http' ? 'the HTTP feed (Server-Sent Events)' : 'Redis pub/sub'}: revoke call returned → first refusal at a verifier in another process (${propagation.length} revocations)`,
      unit: 'ms (p50)',
      baseline: '',
      higherIsBetter: false,
      rows: [
        distRow('revoke returned → first TOKEN_REVOKED', propagation, 'the figure of issues #4 and #11; raw values, ≤ 0 means the verifier refused before the HTTP answer reached the caller'),
        distRow('revoke sent → first TOKEN_REVOKED', fromSent, 'upper bound: includes the whole admin request'),
        distRow('revoke call (sent → returned)', callMs, 'DELETE /admin/sessions/:id, 204'),
        distRow('revoke returned → feed message applied', returnedToApplied, 'onRevocation listener at the verifier'),
        distRow('message applied → first TOKEN_REVOKED', appliedToRefused, 'the verify call in flight finishing, one setImmediate turn')
      ],
      extraColumns: ['p90 ms', 'p99 ms', 'max ms', 'n', '≤ 0 ms'],
      notes: [
        `Each revocation: log in (POST /auth/login, test OTP, ${MOBILES.length} users), send the access token and session id to the verifier process, which verifies it once (it must pass) and then verifies it again on every setImmediate turn until it is refused; then DELETE /admin/sessions/:id with the admin credential. t0 = when fetch returned the 204 here, t1 = when the verifier saw the first refusal, both performance.timeOrigin + performance.now() (one machine, one clock). The first ${WARMUP} revocations warm up and are not counted.`,
        transport === 'http'
          ? 'The verifier follows the auth center\'s HTTP feed (revocation: { clientId, clientSecret }, the built-in development reader): one snapshot, then the stream; the auth center\'s Redis follower (XREAD BLOCK on ac:deny:log) hands each logged entry to the stream. Latencies may be ≤ 0: the entry is logged before the auth center answers.'
          : 'The verifier follows Redis directly (revocation: { redis: url }, two connections of its own). Latencies may be ≤ 0: the Lua script PUBLISHes before the auth center answers.',
        `Its list held ${run.entries} entries at start. The auth center runs in the bench process (build() + listen on 127.0.0.1), with its Redis store on a redis-server with appendonly yes (appendfsync everysec); the verifier and Redis are separate processes, all on ${machine().cores} cores.`,
        ...(failures.length > 0 ? [`${failures.length} revocations were not refused within 10 s: ${[...new Set(failures)].join(', ')}.`] : ['Every revoked token was refused (none still valid after 10 s).'])
      ]
    })
  }
  if (idle !== undefined) {
    const row = (name: string, v: { rssMiB: number, cpuPct: number }, note: string): Row => ({
      contender: name, median: v.rssMiB, samples: [v.rssMiB], min: v.rssMiB, max: v.rssMiB, ratio: null, note, extra: { 'CPU % (idle, 10 s)': v.cpuPct }
    })
    tables.push({
      title: `The auth center's cost of ${connections.toLocaleString('en-US')} connected verifiers (revocation streams open, no revocations)`,
      unit: 'MiB RSS',
      baseline: '',
      higherIsBetter: false,
      rows: [
        row('no stream open', idle.before, 'the bench process after the propagation runs: the auth center (Redis store) and the bench'),
        row(`${connections.toLocaleString('en-US')} streams open`, idle.after, `+${fmt(idle.after.rssMiB - idle.before.rssMiB)} MiB, ${fmt((idle.after.rssMiB - idle.before.rssMiB) * 2 ** 20 / connections / 1024)} KiB a stream; ${idle.heartbeats} heartbeats read by the followers meanwhile`)
      ],
      extraColumns: ['CPU % (idle, 10 s)'],
      notes: [
        `The followers are ${connections.toLocaleString('en-US')} GET /revocations/stream requests from one other process (the connections a verifier each holds), with one client-credentials token. RSS of the process running the auth center, and its CPU time over 10 s of idle (heartbeats every 5 s, the epoch re-read once per heartbeat, whatever the number of streams) as a share of one core.`
      ]
    })
  }

  const onMed = median(costOn)
  const offMed = median(costOff)
  const costRow = (name: string, s: number[], ratio: number | null, note: string): Row => ({
    contender: name, median: median(s), samples: s, min: Math.min(...s), max: Math.max(...s), ratio, note,
    extra: { 'µs/call': 1e6 / median(s) }
  })
  tables.push({
    title: `Verify cost with the revocation feed on vs off (first-time EdDSA tokens, ${costPool} per round, ${costLoaded.toLocaleString('en-US')} entries loaded)`,
    unit: 'verifies/s',
    baseline: 'revocation off',
    higherIsBetter: true,
    rows: [
      costRow('revocation off', costOff, 1, 'createVerifier without revocation'),
      costRow('revocation on', costOn, offMed > 0 ? onMed / offMed : null, `revocation: { redis: url }, ready() awaited, ${costLoaded.toLocaleString('en-US')} session entries in memory; no measured token is revoked (each lookup misses)`)
    ],
    extraColumns: ['µs/call'],
    notes: [
      `In one child process: every round both verifiers are new instances, warmed on 500 other tokens, then take turns on chunks of 100 distinct tokens (the order flips every chunk); a round's sample is tokens / summed time. Medians of ${costRounds} rounds. Keys come from a fetch stub (no socket), as in the verify benchmark.`,
      hasCacheOption
        ? 'This verifier version has a verified-token cache option: both verifiers run with cache: false, so every call is a full verify.'
        : 'This verifier version has no verified-token cache (no cache option): every call is a full verify (signature included), so the revocation check is a small part of each call.'
    ]
  })

  const empty = mem.get('empty:')
  const full = mem.get('ac:')
  const mib = (b: number): number => b / 2 ** 20
  const memRows: Row[] = []
  if (empty !== undefined && full !== undefined) {
    const emptyDelta = empty.after - empty.before
    const fullDelta = full.after - full.before
    memRows.push({
      contender: 'verifier on an empty denylist', median: mib(emptyDelta), samples: [mib(emptyDelta)], min: mib(emptyDelta), max: mib(emptyDelta), ratio: null,
      note: 'baseline: the verifier, its two Redis connections, the feed state',
      extra: { 'entries': String(empty.entries), 'bytes/entry': NaN, 'load ms': empty.loadMs, 'heap after MiB': mib(empty.after), 'rss MiB': mib(empty.rss) }
    })
    memRows.push({
      contender: `verifier with ${full.entries.toLocaleString('en-US')} entries`, median: mib(fullDelta), samples: [mib(fullDelta)], min: mib(fullDelta), max: mib(fullDelta), ratio: null,
      note: 'bytes/entry = (this − empty) / entries',
      extra: { 'entries': full.entries.toLocaleString('en-US'), 'bytes/entry': (fullDelta - emptyDelta) / full.entries, 'load ms': full.loadMs, 'heap after MiB': mib(full.after), 'rss MiB': mib(full.rss) }
    })
    if (memEntries !== 1_000_000) {
      memRows[1]!.extra!['MiB at 1,000,000 (est.)'] = mib((fullDelta - emptyDelta) / full.entries * 1_000_000 + emptyDelta)
    }
  }
  tables.push({
    title: `Verifier heap with ${memEntries.toLocaleString('en-US')} denylist entries`,
    unit: 'MiB (heap growth)',
    baseline: '',
    higherIsBetter: false,
    rows: memRows,
    extraColumns: ['entries', 'bytes/entry', 'load ms', 'heap after MiB', 'rss MiB', ...(memEntries !== 1_000_000 ? ['MiB at 1,000,000 (est.)'] : [])],
    notes: [
      `The hash ac:deny holds ${memEntries.toLocaleString('en-US')} fields s:<22-char id> = <revokedAtMs>:<expiresAtMs> (expiry an hour ahead), written with HSET in pipelines of 10,000 fields, plus ac:epoch. Each verifier runs in a fresh process with --expose-gc (ioredis imported beforehand): heapUsed after three full GCs, before createVerifier and after ready() (the whole hash loaded by HSCAN, COUNT 1000). "load ms" is createVerifier → ready(). One measurement each.`,
      ...(memEntries !== 1_000_000 ? [`Quick mode: ${memEntries.toLocaleString('en-US')} entries (scaled); the last column estimates 1,000,000 from bytes/entry. The full run measures 1,000,000.`] : [])
    ]
  })

  const ratio = offMed > 0 ? onMed / offMed : null
  const targets: Target[] = [...runs].map(([transport, run]) => {
    const p = [...run.propagation].sort((a, b) => a - b)
    const p99 = pct(p, 0.99)
    return {
      name: `propagation p99 over ${p.length} revocations, ${transport === 'http' ? 'HTTP feed' : 'Redis transport'} (loopback)`,
      target: '< 50 ms',
      value: `p50 ${fmt(pct(p, 0.5))} ms, p99 ${fmt(p99)} ms, max ${fmt(p[p.length - 1])} ms${run.failures.length > 0 ? `, ${run.failures.length} not refused` : ''}`,
      met: p.length >= (opts.quick ? 200 : 1000) && run.failures.length === 0 ? p99 < 50 : false,
      ...(opts.quick ? { why: `quick mode: ${p.length} revocations, issues #4 and #11 ask for at least 1,000` } : {})
    }
  })
  if (idle !== undefined) {
    targets.push({
      name: `auth center with ${connections.toLocaleString('en-US')} connected verifiers`,
      target: 'reported',
      value: `+${fmt(idle.after.rssMiB - idle.before.rssMiB)} MiB RSS, ${fmt(idle.after.cpuPct)} % CPU idle (${fmt(idle.before.cpuPct)} % without)`,
      met: null
    })
  }
  targets.push(
    {
      name: 'verify cost, revocation on / off',
      target: 'reported',
      value: `${ratioText(ratio)} (${fmt(onMed)} vs ${fmt(offMed)} verifies/s)`,
      met: null
    },
    {
      name: 'verifier heap with 1,000,000 denylist entries',
      target: 'reported',
      value: full !== undefined && empty !== undefined
        ? (memEntries === 1_000_000
            ? `+${fmt(mib(full.after - full.before))} MiB (${fmt((full.after - full.before - (empty.after - empty.before)) / full.entries)} bytes/entry), loaded in ${fmt(full.loadMs)} ms`
            : `≈ +${fmt(mib((full.after - full.before - (empty.after - empty.before)) / full.entries * 1_000_000))} MiB, estimated from ${memEntries.toLocaleString('en-US')} entries`)
        : 'n/a',
      met: null
    }
  )

  const result: Result = {
    name: 'revocation',
    title: 'Revocation feed: propagation, verify cost, memory',
    date: new Date().toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
    mode: opts.quick ? 'quick' : 'full',
    rounds: costRounds,
    machine: machine(),
    versions: { ...versions(['@authcenter/verifier', '@authcenter/auth-center', 'ioredis', 'fastify']), 'redis-server': redisVersion() },
    tables,
    targets,
    notes
  }
  writeResult(result)
  return result
}

function redisVersion (): string {
  try {
    const out = execFileSync(process.env.REDIS_SERVER_BIN ?? 'redis-server', ['--version'], { encoding: 'utf8' })
    return /v=(\S+)/.exec(out)?.[1] ?? 'unknown'
  } catch {
    return 'unknown'
  }
}
