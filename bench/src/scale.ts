/**
 * Benchmark (issue #14): the auth center scaled out. 1, 2 and 3 auth-center processes on one
 * store, for two stores started side by side in the same run: one redis-server and a local
 * Redis Cluster (3 masters + 3 replicas). Refresh (chained rotation) and login throughput with
 * the load spread evenly over the replicas (one autocannon per replica, all at once, the same
 * total connections whatever N), the ratio to 1 replica on the same store and the cluster's
 * ratio to one Redis; the CPU each replica (and Redis) spends per request, read from /proc;
 * and how long a revocation made at one replica takes to reach the feed streams of the others.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import { freePort, startRedis, startRedisCluster, type RedisCluster, type RedisServer } from '@authcenter/testkit'
import {
  type Contender, type Options, type Result, type Row, type Table, type Target,
  compare, fmt, log, machine, onExit, ratioText, row, versions, writeResult
} from './harness.js'
import type { LoadResult } from './load.js'
import { login, loginLoad, redisVersion, refreshChainLoad, shutdownRedis } from './auth-center.js'
import { CODE, MOBILES, cpuMicros, startAuthCenterProcess, type AuthCenterProcess } from './servers/auth-center-process.js'

const TOPOLOGIES = [
  { key: 'redis', label: 'one Redis' },
  { key: 'cluster', label: 'Redis Cluster' }
] as const
type Topology = typeof TOPOLOGIES[number]['key']
const NS = [1, 2, 3] as const
const REPLICAS = 3
/** Total connections, split evenly over the replicas under load (divisible by 1, 2 and 3). */
const CONNECTIONS = 12
const WARMUP = 20
const FEED_CLIENT = 'dev-revocations'
const FEED_SECRET = 'dev-revocations-secret-not-for-production'

const name = (label: string, n: number): string => `${label}, ${n} replica${n === 1 ? '' : 's'}`
const now = (): number => performance.timeOrigin + performance.now()

interface Store {
  key: Topology
  label: string
  replicas: AuthCenterProcess[]
  /** Every redis-server of the store (one, or the cluster's six). */
  redisPids: number[]
}

function redisPid (port: number): number {
  const out = execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'INFO', 'server'], { encoding: 'utf8', timeout: 10_000 })
  const m = /^process_id:(\d+)/m.exec(out)
  if (m === null) throw new Error(`redis-server on ${port}: no process_id in INFO`)
  return Number(m[1])
}

/** Busy and total jiffies of the whole machine (first line of /proc/stat): what others on the machine used too. */
function machineJiffies (): { busy: number, total: number } {
  const [, ...v] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/)
  const n = v.map(Number)
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0)
  return { busy: total - n[3]! - n[4]!, total }
}

/** CPU of the replicas, of Redis, of this process (autocannon) and of the machine over one load. */
interface CpuWindow { replicas: number[], redis: number, bench: number, run: number, machineCores: number, wallUs: number }

/** Every process of this run but this one: all replicas and redis-servers of both stores (also those idle in a sample). */
const runPids: number[] = []

async function measuredCpu<T> (store: Store, pids: number[], run: () => Promise<T>): Promise<{ value: T, cpu: CpuWindow }> {
  const r0 = pids.map(cpuMicros)
  const d0 = store.redisPids.map(cpuMicros)
  const a0 = runPids.map(cpuMicros)
  const b0 = process.cpuUsage()
  const m0 = machineJiffies()
  const t0 = performance.now()
  const value = await run()
  const wallUs = (performance.now() - t0) * 1000
  const m1 = machineJiffies()
  const b = process.cpuUsage(b0)
  const cores = cpus().length
  return {
    value,
    cpu: {
      replicas: pids.map((p, i) => cpuMicros(p) - r0[i]!),
      redis: store.redisPids.reduce((sum, p, i) => sum + cpuMicros(p) - d0[i]!, 0),
      bench: b.user + b.system,
      run: runPids.reduce((sum, p, i) => sum + cpuMicros(p) - a0[i]!, 0) + b.user + b.system,
      machineCores: m1.total > m0.total ? (m1.busy - m0.busy) / (m1.total - m0.total) * cores : NaN,
      wallUs
    }
  }
}

function extras (results: Array<LoadResult & { lost?: number }>, cpu: CpuWindow, per: string): Record<string, number> {
  const ok = results.reduce((s, r) => s + r.ok, 0)
  const shares = results.map((r) => r.ok / Math.max(1, ok))
  return {
    'p99 ms': Math.max(...results.map((r) => r.p99)),
    failed: results.reduce((s, r) => s + r.non2xx + r.errors + r.timeouts + (r.lost ?? 0), 0),
    // The replicas' CPU over the requests they answered: what one request costs in whichever replica answers it.
    [`replica µs CPU/${per}`]: cpu.replicas.reduce((a, b) => a + b, 0) / Math.max(1, ok),
    [`Redis µs CPU/${per}`]: cpu.redis / Math.max(1, ok),
    'smallest share %': Math.min(...shares) * 100,
    'replicas cores': cpu.replicas.reduce((a, b) => a + b, 0) / cpu.wallUs,
    'Redis cores': cpu.redis / cpu.wallUs,
    'bench cores': cpu.bench / cpu.wallUs,
    'machine busy cores': cpu.machineCores,
    // What the machine was busy with besides this run's processes: the other work sharing its cores.
    'others cores': cpu.machineCores - cpu.run / cpu.wallUs
  }
}

async function loginSession (base: string, i: number): Promise<string> {
  const r = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mobile: MOBILES[i % MOBILES.length], code: CODE })
  })
  const body = await r.json() as { session_id?: string }
  if (r.status !== 200 || body.session_id === undefined) throw new Error(`login answered ${r.status}`)
  return body.session_id
}

/**
 * A cluster client opens each master's own connection on first use, and a request sent to a
 * master still connecting is refused (503, the offline queue is off: fail fast). So before any
 * burst: one request at a time at this replica, a 503 retried, until 30 logins and their
 * refreshes in a row have succeeded (random session ids: every master is reached).
 */
async function warmUp (r: AuthCenterProcess, label: string): Promise<void> {
  const deadline = Date.now() + 30_000
  let inARow = 0
  let refused = 0
  for (let i = 0; inARow < 30; i++) {
    if (Date.now() > deadline) throw new Error(`${label}: replica ${r.pid} still refusing after 30 s of warm-up (${refused} refused)`)
    const lr = await fetch(`${r.base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mobile: MOBILES[i % MOBILES.length], code: CODE }) })
    const body = await lr.json() as { refresh_token?: string }
    let ok = lr.status === 200 && body.refresh_token !== undefined
    if (ok) {
      const res = await fetch(`${r.base}/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: body.refresh_token }) })
      await res.body?.cancel()
      ok = res.status === 200
    }
    if (ok) { inARow++; continue }
    if (lr.status !== 200 && lr.status !== 503) throw new Error(`${label}: warm-up login answered ${lr.status}`)
    refused++
    inARow = 0
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  if (refused > 0) log(`scale: ${label}: replica ${r.pid}: ${refused} warm-up requests refused (503) while its cluster connections opened`)
}

/** Follows one replica's GET /revocations/stream and resolves `seen(sid)` with the time the session's entry arrived. */
class FeedFollower {
  readonly #base: string
  readonly #seen = new Map<string, number>()
  readonly #waiting = new Map<string, (t: number) => void>()
  #abort: AbortController | undefined
  #renewAt = 0

  constructor (base: string) { this.#base = base }

  /** Opens a stream (again, once its token is near expiry: a stream lives as long as its token) and waits for its hello. */
  async ensureOpen (): Promise<void> {
    if (this.#abort !== undefined && Date.now() < this.#renewAt) return
    const tr = await fetch(`${this.#base}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${FEED_CLIENT}:${FEED_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=revocations%3Aread'
    })
    const { access_token: token, expires_in: expiresIn } = await tr.json() as { access_token?: string, expires_in?: number }
    if (tr.status !== 200 || token === undefined) throw new Error(`feed token: ${tr.status}`)
    const abort = new AbortController()
    const res = await fetch(`${this.#base}/revocations/stream`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort.signal })
    if (!res.ok || res.body === null) throw new Error(`revocation stream: HTTP ${res.status}`)
    let hello: () => void = () => {}
    const helloSeen = new Promise<void>((resolve) => { hello = resolve })
    void this.#read(res.body as unknown as AsyncIterable<Uint8Array>, hello).catch(() => {})
    await Promise.race([helloSeen, new Promise((_resolve, reject) => setTimeout(() => reject(new Error('revocation stream: no hello within 10 s')), 10_000).unref())])
    this.#abort?.abort() // the previous stream, now that the new one is live
    this.#abort = abort
    this.#renewAt = Date.now() + Math.max(5, (expiresIn ?? 120) - 20) * 1000
  }

  async #read (body: AsyncIterable<Uint8Array>, hello: () => void): Promise<void> {
    let buf = ''
    const decoder = new TextDecoder()
    for await (const chunk of body) {
      const t = now()
      buf += decoder.decode(chunk, { stream: true })
      let end: number
      while ((end = buf.indexOf('\n\n')) !== -1) {
        const event = buf.slice(0, end)
        buf = buf.slice(end + 2)
        if (/^event: hello$/m.test(event)) hello()
        const m = /^event: revocation$[\s\S]*^data: s:([^=\n]+)=/m.exec(event)
        if (m === null) continue
        const sid = m[1]!
        const resolve = this.#waiting.get(sid)
        if (resolve !== undefined) { this.#waiting.delete(sid); resolve(t) } else this.#seen.set(sid, t)
      }
    }
  }

  /** When the entry for `sid` arrived (already, or within `timeoutMs`); null if it did not. */
  async seen (sid: string, timeoutMs: number): Promise<number | null> {
    const t = this.#seen.get(sid)
    if (t !== undefined) { this.#seen.delete(sid); return t }
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#waiting.delete(sid); resolve(null) }, timeoutMs)
      this.#waiting.set(sid, (at) => { clearTimeout(timer); resolve(at) })
    })
  }

  close (): void { this.#abort?.abort() }
}

/** Nearest-rank percentile of sorted values. */
function pct (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

function distRow (contender: string, values: readonly number[], note: string): Row {
  const s = [...values].sort((a, b) => a - b)
  return {
    contender,
    median: pct(s, 0.5),
    samples: [...values],
    min: s[0] ?? null,
    max: s[s.length - 1] ?? null,
    ratio: null,
    note,
    extra: { 'p90 ms': pct(s, 0.9), 'p99 ms': pct(s, 0.99), 'max ms': s[s.length - 1] ?? NaN, n: String(s.length) }
  }
}

interface Propagation { returned: number[], sent: number[], call: number[], missed: number }

/**
 * Revocations made at replica A (DELETE /admin/sessions/:id), each waited for on the feed
 * streams of B and C: the sample is the later of the two arrivals − the revoke call returning.
 */
async function propagation (store: Store, adminToken: string, samples: number, offset: number): Promise<Propagation> {
  const [a, ...others] = store.replicas
  const followers = others.map((r) => new FeedFollower(r.base))
  const out: Propagation = { returned: [], sent: [], call: [], missed: 0 }
  try {
    for (let i = 0; i < samples + WARMUP; i++) {
      await Promise.all(followers.map(async (f) => f.ensureOpen()))
      const sid = await loginSession(a!.base, offset + i)
      const arrivals = followers.map(async (f) => f.seen(sid, 5000))
      const tSent = now()
      const r = await fetch(`${a!.base}/admin/sessions/${encodeURIComponent(sid)}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` } })
      const t0 = now()
      await r.arrayBuffer()
      if (r.status !== 204) throw new Error(`DELETE /admin/sessions answered ${r.status}`)
      const times = await Promise.all(arrivals)
      if (i < WARMUP) continue
      if (times.some((t) => t === null)) { out.missed++; continue }
      const last = Math.max(...(times as number[]))
      out.returned.push(last - t0)
      out.sent.push(last - tSent)
      out.call.push(t0 - tSent)
    }
  } finally {
    for (const f of followers) f.close()
  }
  return out
}

/** What bounds the scaling, from the refresh table's CPU columns at 1 replica on one Redis. */
function bounds (t: Table | undefined, loadAtStart: string, loadAtEnd: string): string {
  const x = t === undefined ? undefined : row(t, name(TOPOLOGIES[0].label, 1))?.extra
  const v = (k: string): string => fmt(Number(x?.[k]))
  return `What bounds the scaling here: the machine has ${cpus().length} cores for every process of the run (6 replicas, 7 redis-servers, autocannon in this process) and for any other work on it (load average ${loadAtStart} at the start, ${loadAtEnd} at the end). ` +
    `With 1 replica under refresh load on one Redis the machine was busy ${v('machine busy cores')} of ${cpus().length} cores: the replica ${v('replicas cores')}, Redis ${v('Redis cores')}, autocannon ${v('bench cores')}, other work ${v('others cores')}. ` +
    'Whenever "machine busy cores" is at its ceiling, a second or third replica does not add CPU, it only shares the same cores (and spreads the same load thinner: each replica answers fewer requests per event-loop turn, so its CPU per request rises). ' +
    'The ratio to 1 replica therefore measures the cost of spreading the load on a full machine, not the capacity of more machines; the CPU per request is what carries over to a real cluster.'
}

/** Per-core capacities from the 1-replica rows (the busiest replica: its fixed costs best shared out). */
function sizing (tables: Table[]): string {
  const parts: string[] = []
  for (const [t, what] of [[tables[0], 'refresh'], [tables[1], 'login']] as const) {
    if (t === undefined) continue
    for (const store of TOPOLOGIES) {
      const x = row(t, name(store.label, 1))?.extra
      const rep = Number(x?.[`replica µs CPU/${what}`])
      const red = Number(x?.[`Redis µs CPU/${what}`])
      parts.push(`${what} on ${store.label}: ${fmt(rep)} µs of replica CPU (≈ ${fmt(1e6 / rep)}/s per core) and ${fmt(red)} µs of Redis CPU (≈ ${fmt(1e6 / red)}/s per Redis core${store.key === 'cluster' ? ', summed over its 6 nodes' : ''})`)
    }
  }
  return `Sizing from these figures (1 replica under load, the least overhead per request): ${parts.join('; ')}. ` +
    'A replica runs its requests on one thread, so it uses about one core: run one replica per core, and as many cores as the peak rate divided by the per-core figure, with headroom (the figures rise when a replica is lightly loaded, see the CPU column at 2 and 3 replicas).'
}

export async function runScale (opts: Options): Promise<Result> {
  const started = performance.now()
  const rounds = opts.quick ? 3 : 5
  const seconds = opts.quick ? 1 : 4
  const warmSeconds = opts.quick ? 0.5 : 1
  const samples = opts.quick ? 200 : 1000
  const adminToken = randomBytes(24).toString('base64url')
  const removeHooks: Array<() => void> = []
  const stores: Store[] = []
  const tables: Table[] = []
  const notes: string[] = []
  const targets: Target[] = []
  const prop = new Map<Topology, Propagation>()
  let redis: RedisServer | undefined
  let cluster: RedisCluster | undefined
  const loadAvg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  const loadAtStart = loadAvg()
  let loadAtEnd = ''

  try {
    redis = await startRedis({ persist: true })
    const redisPort = redis.port
    removeHooks.push(onExit(() => shutdownRedis(redisPort)))
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 })
    const clusterPorts = cluster.nodes.map((n) => n.port)
    removeHooks.push(onExit(() => { for (const p of clusterPorts) shutdownRedis(p) }))
    // The testkit's cluster nodes start without persistence: the same appendonly yes (everysec) as the single Redis.
    for (const p of clusterPorts) {
      const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(p), 'CONFIG', 'SET', 'appendonly', 'yes'], { encoding: 'utf8', timeout: 10_000 })
      if (r.stdout.trim() !== 'OK') throw new Error(`redis-server ${p}: CONFIG SET appendonly yes answered ${r.stdout.trim()} ${r.stderr.trim()}`)
    }

    for (const t of TOPOLOGIES) {
      const storeEnv: Record<string, string> = t.key === 'redis' ? { REDIS_URL: redis.url } : { REDIS_CLUSTER_NODES: cluster.seeds }
      // One deployment: one issuer (the address a load balancer would have) and one key-encryption key.
      const env = {
        ...storeEnv,
        AUTH_ISSUER: `http://127.0.0.1:${await freePort()}`,
        AUTH_KEK: randomBytes(32).toString('base64url'),
        AUTH_ADMIN_TOKEN: adminToken,
        AUTH_KEY_ROTATION_INTERVAL: '0'
      }
      const store: Store = {
        key: t.key,
        label: t.label,
        replicas: [],
        redisPids: t.key === 'redis' ? [redisPid(redis.port)] : clusterPorts.map(redisPid)
      }
      stores.push(store)
      runPids.push(...store.redisPids)
      // Started together on an empty store, as the replicas test does: they agree on one key set.
      const started = await Promise.allSettled(Array.from({ length: REPLICAS }, async () => startAuthCenterProcess(env, { timeoutMs: 60_000 })))
      for (const s of started) if (s.status === 'fulfilled') store.replicas.push(s.value)
      const failed = started.find((s) => s.status === 'rejected')
      if (failed !== undefined) throw new Error(`${t.label}: an auth-center replica did not start: ${String((failed as PromiseRejectedResult).reason)}`)
      runPids.push(...store.replicas.map((r) => r.pid))
      for (const r of store.replicas) await warmUp(r, t.label)
      log(`scale: ${t.label}: ${REPLICAS} replicas up (pids ${store.replicas.map((r) => r.pid).join(', ')}), redis-server pids ${store.redisPids.join(', ')}`)
    }

    const last = new Map<string, Record<string, number>>()
    const warm = new Set<string>()
    const contenders = (kind: 'refresh' | 'login'): Contender[] => stores.flatMap((store) => NS.map((n) => {
      const contender = name(store.label, n)
      const reps = store.replicas.slice(0, n)
      const perReplica = CONNECTIONS / n
      const run = async (secs: number): Promise<{ rps: number, x: Record<string, number> }> => {
        let results: Array<LoadResult & { lost?: number }>
        let cpu: CpuWindow
        if (kind === 'refresh') {
          // Seeds (one login per chain and spares) outside the measured window.
          const seeds = await Promise.all(reps.map(async (r, k) => Promise.all(Array.from({ length: perReplica * 3 }, async (_, i) => login(r.base, k * 1000 + i)))))
          ;({ value: results, cpu } = await measuredCpu(store, reps.map((r) => r.pid), async () => Promise.all(reps.map(async (r, k) =>
            refreshChainLoad(secs, perReplica, async () => seeds[k]!, r.base, '/auth/refresh', 'application/json', (t) => JSON.stringify({ refresh_token: t }))))))
        } else {
          ;({ value: results, cpu } = await measuredCpu(store, reps.map((r) => r.pid), async () => Promise.all(reps.map(async (r, k) =>
            loginLoad(r.base, secs, perReplica, Math.floor(k * MOBILES.length / REPLICAS))))))
        }
        return { rps: results.reduce((s, r) => s + r.rps, 0), x: extras(results, cpu, kind) }
      }
      return {
        name: contender,
        note: `${perReplica} connections at each of ${n} replica${n === 1 ? '' : 's'}`,
        measure: async () => {
          const key = `${kind}|${contender}`
          if (!warm.has(key)) { warm.add(key); await run(warmSeconds) }
          const { rps, x } = await run(seconds)
          last.set(contender, x)
          return rps
        }
      }
    }))
    const perN = (table: Table): void => {
      // Ratios the harness's single baseline does not give: to 1 replica on the same store, and the cluster to one Redis at the same N.
      for (const store of stores) {
        for (const n of NS) {
          const r = row(table, name(store.label, n))
          const one = row(table, name(store.label, 1))?.median
          const redisN = row(table, name(TOPOLOGIES[0].label, n))?.median
          if (r?.median == null) continue
          r.extra = { ...(r.extra ?? {}), 'vs 1 replica': one != null && one > 0 ? r.median / one : NaN }
          if (store.key === 'cluster') r.extra['cluster / one Redis'] = redisN != null && redisN > 0 ? r.median / redisN : NaN
        }
      }
      table.extraColumns = ['vs 1 replica', 'cluster / one Redis', ...(table.extraColumns ?? []).filter((c) => c !== 'vs 1 replica' && c !== 'cluster / one Redis')]
    }
    const method = `The load is spread evenly: one autocannon per replica under load, all at once from this process, ${CONNECTIONS} connections in all whatever the number of replicas (12, 6 + 6, 4 + 4 + 4), pipelining 1. The three replicas of a store run throughout; those not under load idle. "p99 ms" is the worst replica's; "smallest share %" the share of the requests answered by the least busy replica (33 % is an even split of 3). CPU from /proc/<pid>/stat (utime + stime, 10 ms ticks) read before and after each sample: "replica µs CPU" is the CPU of the replicas under load over the requests they answered (what a request costs in the replica that answers it; an idle replica's own background work is not counted); "Redis µs CPU" the CPU of every redis-server of the store (the cluster's 6) over all requests; "… cores" CPU time over wall time (1.00 = one core busy); "machine busy cores" all of the machine's CPUs (from /proc/stat); "others cores" what of it was not this run's processes (every replica and redis-server of both stores, and this one): other work on the machine.`

    log(`scale: refresh, ${rounds} rounds of ${seconds} s`)
    const rt = await compare({
      title: `Refresh with rotation, chained, by number of replicas (${CONNECTIONS} connections in all, ${seconds} s per sample)`,
      unit: 'refreshes/s',
      baseline: name(TOPOLOGIES[0].label, 1),
      rounds,
      contenders: contenders('refresh'),
      extra: (c) => last.get(c),
      log,
      notes: [method, 'Every refresh token is presented exactly once (chains as in the `auth` suite, one queue per replica, seeded by logins at that replica outside the measured window); "failed" counts non-200 answers and errors, each one ends a chain.']
    })
    perN(rt)
    tables.push(rt)
    log(`scale: login, ${rounds} rounds of ${seconds} s`)
    const lt = await compare({
      title: `Login with a test OTP, by number of replicas (${CONNECTIONS} connections in all, ${seconds} s per sample)`,
      unit: 'logins/s',
      baseline: name(TOPOLOGIES[0].label, 1),
      rounds,
      contenders: contenders('login'),
      extra: (c) => last.get(c),
      log,
      notes: [method, `POST /auth/login with the test OTP (SMS_TEST_OTP), ${MOBILES.length} users: each replica's load starts at its own third of the numbers. Each login writes a session and issues an access and a refresh token.`]
    })
    perN(lt)
    tables.push(lt)

    for (const [i, store] of stores.entries()) {
      log(`scale: ${store.label}: revocation propagation across replicas, ${samples} revocations (+${WARMUP} warm-up)`)
      prop.set(store.key, await propagation(store, adminToken, samples, i * 1500))
    }
    loadAtEnd = loadAvg()
  } finally {
    await Promise.all(stores.flatMap((s) => s.replicas.map(async (r) => r.close().catch(() => {}))))
    await redis?.close().catch(() => {})
    await cluster?.close().catch(() => {})
    for (const remove of removeHooks) remove()
  }

  const rows: Row[] = []
  for (const store of stores) {
    const p = prop.get(store.key)
    if (p === undefined) continue
    rows.push(distRow(`${store.label}: revoke returned at A → entry on the streams of B and C`, p.returned,
      `the later of the two arrivals; ${p.missed} not seen within 5 s; ≤ 0: it arrived before the HTTP answer reached the caller`))
    rows.push(distRow(`${store.label}: revoke sent at A → entry on the streams of B and C`, p.sent, 'upper bound: includes the whole admin request'))
  }
  tables.push({
    title: `Revocation propagation across replicas: revoked at replica A (DELETE /admin/sessions/:id), seen on the feed streams of replicas B and C (${samples} revocations per store)`,
    unit: 'ms (p50)',
    baseline: '',
    higherIsBetter: false,
    rows,
    extraColumns: ['p90 ms', 'p99 ms', 'max ms', 'n'],
    notes: [
      `Each revocation: log in at A (test OTP), then DELETE /admin/sessions/:id at A with the admin credential; this process follows GET /revocations/stream at B and at C (a client-credentials token of the built-in reader, scope revocations:read; the stream is reopened before its token expires) and takes the time each one's revocation event for that session arrives. t0 = when fetch returned the 204; times are performance.timeOrigin + performance.now() in this process (one clock). No load besides. The first ${WARMUP} revocations warm up and are not counted.`,
      'On one Redis the entry reaches B and C through the feed log each replica follows (XREAD BLOCK on ac:deny:log); on the cluster through the log on the {deny} slot\'s master.'
    ]
  })

  const ratioOf = (t: Table, a: string, b: string): number | null => {
    const x = row(t, a)?.median
    const y = row(t, b)?.median
    return x != null && y != null && y > 0 ? x / y : null
  }
  const [rt, lt] = tables
  for (const [t, what, unit] of [[rt, 'refresh', 'refreshes/s'], [lt, 'login', 'logins/s']] as const) {
    if (t === undefined) continue
    for (const store of TOPOLOGIES) {
      const r3 = row(t, name(store.label, 3))
      const r1 = row(t, name(store.label, 1))
      targets.push({
        name: `${what}, ${store.label}: 3 replicas / 1 replica (2 cores: bounded by the machine)`,
        target: 'reported',
        value: `${ratioText(ratioOf(t, name(store.label, 3), name(store.label, 1)))}, 2 replicas ${ratioText(ratioOf(t, name(store.label, 2), name(store.label, 1)))} (${fmt(r1?.median)} → ${fmt(r3?.median)} ${unit}; replica ${fmt(Number(r1?.extra?.[`replica µs CPU/${what}`]))} µs CPU per ${what}, Redis ${fmt(Number(r1?.extra?.[`Redis µs CPU/${what}`]))} µs)`,
        met: null
      })
    }
    targets.push({
      name: `${what}: Redis Cluster / one Redis, 3 replicas`,
      target: 'reported',
      value: ratioText(ratioOf(t, name(TOPOLOGIES[1].label, 3), name(TOPOLOGIES[0].label, 3))),
      met: null
    })
  }
  for (const store of TOPOLOGIES) {
    const p = prop.get(store.key)
    if (p === undefined) continue
    const s = [...p.returned].sort((a, b) => a - b)
    targets.push({
      name: `revocation propagation p99 across replicas, ${store.label} (HTTP feed streams of the other two replicas)`,
      target: '< 50 ms (issues #4, #11), every revocation seen',
      value: `p50 ${fmt(pct(s, 0.5))} ms, p99 ${fmt(pct(s, 0.99))} ms, max ${fmt(s[s.length - 1])} ms over ${s.length}${p.missed > 0 ? `, ${p.missed} not seen` : ''}`,
      met: s.length === 0 ? null : pct(s, 0.99) < 50 && p.missed === 0
    })
  }

  notes.push(
    `Setup. One redis-server (appendonly yes, appendfsync everysec, as in the other suites) and one Redis Cluster of 3 masters + 3 replicas (testkit startRedisCluster, each node set to appendonly yes with CONFIG SET), both started by the bench on 127.0.0.1 and running side by side; on each, three auth-center processes (dist/server.js, LOG_LEVEL=warn) of one deployment: one AUTH_ISSUER, one AUTH_KEK, key rotation off, started together. Before measuring, every replica answers 30 logins and refreshes in a row, one at a time (on a cluster this opens each master's connection: a request to a master still connecting is refused with 503, and retried here). The contenders (2 stores × 1, 2, 3 replicas) alternate, their order rotating every round.`,
    bounds(tables[0], loadAtStart, loadAtEnd),
    sizing(tables)
  )

  const result: Result = {
    name: 'scale',
    title: 'Auth center scaled out: 1, 2 and 3 replicas on one Redis and on a Redis Cluster',
    date: new Date().toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
    mode: opts.quick ? 'quick' : 'full',
    rounds,
    machine: machine(),
    versions: { ...versions(['@authcenter/auth-center', 'ioredis', 'fastify', 'autocannon']), 'redis-server': redisVersion() },
    tables,
    targets,
    notes
  }
  writeResult(result)
  return result
}
