/**
 * Benchmark: the auth center's stores (issue #13). The same auth center build on
 * (a) Redis alone, (b) PostgreSQL alone, (c) PostgreSQL + Redis (users, clients,
 * consents, events and keys in PostgreSQL; sessions, denylist, codes, counters in
 * Redis), beside node-oidc-provider on Redis: login and refresh throughput and p99,
 * contenders alternating every round. Every write is durable: each redis-server
 * has appendonly yes, PostgreSQL runs with fsync on and synchronous_commit on (both
 * read back from the server into the result).
 */
import { execFileSync, type ChildProcess } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '@authcenter/testkit'
import {
  type Contender, type Options, type Result, type Table, type Target,
  compare, fmt, log, machine, onExit, ratioText, row, stopChild, versions, writeResult
} from './harness.js'
import {
  type Oidc, login, loginLoad, mint, oidcClientCredentialsLoad, oidcRefreshBody, redisVersion, refreshChainLoad, sampler, shutdownRedis,
  startOidc
} from './auth-center.js'
import { startAuthCenterProcess, type AuthCenterProcess } from './servers/auth-center-process.js'

const STORES = [
  { key: 'redis', label: 'Redis alone' },
  { key: 'postgres', label: 'PostgreSQL alone' },
  { key: 'postgres+redis', label: 'PostgreSQL + Redis' }
] as const
type StoreKey = typeof STORES[number]['key']

const refreshName = (label: string): string => `auth center on ${label}: POST /auth/refresh`
const loginName = (label: string): string => `auth center on ${label}: POST /auth/login (test OTP)`
const OIDC_REFRESH = 'oidc-provider: refresh_token (Redis adapter)'
const OIDC_CC = 'oidc-provider: client_credentials (Redis adapter)'

/** One setting as the running server reports it (psql: the bench has no PostgreSQL driver of its own). */
function show (url: string, setting: string): string {
  try {
    return (execFileSync('psql', ['-X', '-A', '-t', '-d', url, '-c', `SHOW ${setting}`], { encoding: 'utf8', timeout: 10_000 }) as string).trim()
  } catch (err) {
    return `unknown (${(err as Error).message.split('\n')[0]})`
  }
}

function pgVersion (url: string): string {
  return /^\S+/.exec(show(url, 'server_version'))?.[0] ?? 'unknown'
}

export async function runStorage (opts: Options): Promise<Result> {
  const started = performance.now()
  const rounds = opts.quick ? 3 : 5
  const seconds = opts.quick ? 1 : 5
  const warmSeconds = opts.quick ? 0.5 : 1
  const connections = 10
  const seedCount = connections * 3
  const redisServers: RedisServer[] = []
  const removeHooks: Array<() => void> = []
  const children: ChildProcess[] = []
  const centers: AuthCenterProcess[] = []
  const tables: Table[] = []
  const notes: string[] = []
  const errors = new Map<StoreKey, string>()
  const bases = new Map<StoreKey, string>()
  let postgres: PostgresServer | undefined
  const settings: Record<string, string> = {}
  let postgresVersion = 'unknown'

  const redis = async (): Promise<RedisServer> => {
    const r = await startRedis({ persist: true })
    redisServers.push(r)
    removeHooks.push(onExit(() => shutdownRedis(r.port)))
    return r
  }

  try {
    postgres = await startPostgres()
    for (const s of ['fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'shared_buffers']) settings[s] = show(postgres.url, s)
    postgresVersion = pgVersion(postgres.url)
    log(`storage: PostgreSQL ${postgresVersion}: ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(', ')}`)
    const envs: Record<StoreKey, Record<string, string>> = {
      redis: { REDIS_URL: (await redis()).url },
      postgres: { DATABASE_URL: await postgres.newDatabase() },
      'postgres+redis': { DATABASE_URL: await postgres.newDatabase(), REDIS_URL: (await redis()).url }
    }
    for (const { key } of STORES) {
      try {
        const s = await startAuthCenterProcess(envs[key])
        centers.push(s)
        await login(s.base, 0) // proves the test OTP works on this store
        bases.set(key, s.base)
      } catch (err) {
        errors.set(key, `could not run: ${(err as Error).message.slice(0, 300)}`)
        log(`storage: auth center on ${key}: ${errors.get(key)!}`)
      }
    }
    const oidc: Oidc = await startOidc((await redis()).url)
    children.push(oidc.child)

    const { sample, extra } = sampler(seconds, warmSeconds)
    const unsupported = (key: StoreKey): { unsupported?: string } => errors.has(key) ? { unsupported: errors.get(key)! } : {}

    // ---- refresh with rotation, chained (first, so that the sessions made by the login table do not weigh on it)
    const refresh: Contender[] = STORES.map(({ key, label }) => ({
      name: refreshName(label),
      ...unsupported(key),
      measure: async () => sample(refreshName(label), async (secs) => refreshChainLoad(secs, connections,
        async () => Promise.all(Array.from({ length: seedCount }, (_, i) => login(bases.get(key)!, i))),
        bases.get(key)!, '/auth/refresh', 'application/json', (t) => JSON.stringify({ refresh_token: t })))
    }))
    refresh.push({
      name: OIDC_REFRESH,
      measure: async () => sample(OIDC_REFRESH, async (secs) => refreshChainLoad(secs, connections, async () => mint(oidc, seedCount),
        oidc.base, '/token', 'application/x-www-form-urlencoded', (t) => oidcRefreshBody(oidc, t)))
    })
    tables.push(await compare({
      title: `Refresh with rotation by store, chained (${connections} connections, ${seconds} s per sample)`,
      unit: 'refreshes/s',
      baseline: OIDC_REFRESH,
      rounds,
      contenders: refresh,
      extra,
      log,
      notes: ['Each refresh token is presented exactly once (as in the `auth` suite); "failed" counts non-200 answers and errors, each one ends a chain.']
    }))

    // ---- new tokens: login (a session written durably) vs oidc-provider's client credentials
    const issue: Contender[] = STORES.map(({ key, label }) => ({
      name: loginName(label),
      ...unsupported(key),
      measure: async () => sample(loginName(label), async (secs) => loginLoad(bases.get(key)!, secs, connections))
    }))
    issue.push({
      name: OIDC_CC,
      measure: async () => sample(OIDC_CC, async (secs) => oidcClientCredentialsLoad(oidc, secs, connections))
    })
    tables.push(await compare({
      title: `New tokens by store: login with a test OTP vs client credentials (${connections} connections, ${seconds} s per sample)`,
      unit: 'tokens/s',
      baseline: OIDC_CC,
      rounds,
      contenders: issue,
      extra,
      log,
      notes: ['Login checks the test OTP, finds or creates the user, writes a session and issues an EdDSA access token and a refresh token; client credentials issues only an EdDSA JWT and stores nothing. The cheapest "new token" path of each server, not the same work.']
    }))
  } finally {
    await Promise.all([...children.map((c) => stopChild(c)), ...centers.map((c) => c.close())])
    await Promise.all(redisServers.map((r) => r.close().catch(() => {})))
    await postgres?.close().catch(() => {})
    for (const remove of removeHooks) remove()
  }

  const targets: Target[] = []
  const vs = (table: Table, name: string, baseName: string, unit: string, min: number, label: string, why?: string): void => {
    const a = row(table, name)
    const b = row(table, baseName)
    const ratio = a?.median != null && b?.median != null ? a.median / b.median : null
    const failed = Number(a?.extra?.failed ?? 0)
    targets.push({
      name: label,
      target: `≥ ${min.toFixed(2)}×, no failed request`,
      value: `${ratioText(ratio)} (${fmt(a?.median)} vs ${fmt(b?.median)} ${unit}; p99 ${fmt(Number(a?.extra?.['p99 ms']))} vs ${fmt(Number(b?.extra?.['p99 ms']))} ms; failed ${fmt(failed)})`,
      met: ratio === null ? null : ratio >= min && failed === 0,
      ...(why !== undefined ? { why } : {})
    })
  }
  const [rt, lt] = tables
  if (rt !== undefined && lt !== undefined) {
    vs(rt, refreshName('PostgreSQL alone'), OIDC_REFRESH, 'refreshes/s', 1, 'refresh on PostgreSQL alone ≥ 1 × oidc-provider refresh_token on Redis', errors.get('postgres'))
    vs(lt, loginName('PostgreSQL alone'), OIDC_CC, 'tokens/s', 1, 'login on PostgreSQL alone ≥ 1 × oidc-provider client_credentials on Redis', errors.get('postgres'))
    vs(rt, refreshName('PostgreSQL + Redis'), refreshName('Redis alone'), 'refreshes/s', 0.8, 'refresh on PostgreSQL + Redis ≥ 0.8 × Redis alone', errors.get('postgres+redis') ?? errors.get('redis'))
    vs(lt, loginName('PostgreSQL + Redis'), loginName('Redis alone'), 'tokens/s', 0.8, 'login on PostgreSQL + Redis ≥ 0.8 × Redis alone', errors.get('postgres+redis') ?? errors.get('redis'))
  }

  notes.push(
    `Durability. PostgreSQL (started by the bench, initdb in a temporary directory, 127.0.0.1): ${Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join(', ')} (read with SHOW from the running server). synchronous_commit on: a commit returns only after its WAL record is flushed to disk, so every rotation and every new session is on disk before the reply. Each redis-server: appendonly yes, appendfsync everysec (the default of Redis persistence, as in the \`auth\` suite: written before the reply, fsynced within a second).`,
    'Setup. One auth center process per store, the same dist/server.js and environment except the store: REDIS_URL (Redis alone), DATABASE_URL (PostgreSQL alone: every concern in PostgreSQL), both (users, clients, consents, events and keys in PostgreSQL; sessions, denylist, codes, counters in Redis). The two PostgreSQL contenders share one PostgreSQL server (each its own database; they never run at the same time), DATABASE_POOL_MAX default (10); each Redis contender and oidc-provider has its own redis-server. LOG_LEVEL=warn.',
    'oidc-provider is the same server as in the `auth` suite (its minimal ioredis adapter; refresh tokens minted with its own models outside the timed part, then the real token endpoint).'
  )
  for (const [key, e] of errors) notes.push(`The auth center on ${key} ${e}`)

  const result: Result = {
    name: 'storage',
    title: 'Auth center by store (Redis, PostgreSQL, PostgreSQL + Redis) vs node-oidc-provider on Redis',
    date: new Date().toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
    mode: opts.quick ? 'quick' : 'full',
    rounds,
    machine: machine(),
    versions: {
      ...versions(['@authcenter/auth-center', 'oidc-provider', 'fastify', 'autocannon']),
      'redis-server': redisVersion(),
      postgresql: postgresVersion
    },
    tables,
    targets,
    notes
  }
  writeResult(result)
  return result
}
