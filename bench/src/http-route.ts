/**
 * Benchmark 2: an authenticated Fastify route over HTTP. Each contender is
 * its own server process on 127.0.0.1 (route-server.ts); autocannon runs in
 * this process, one contender at a time, alternating every round.
 */
import type { ChildProcess } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import type autocannon from 'autocannon'
import {
  type Contender, type Options, type Result, type Table, type Target,
  compare, fmt, forkTs, log, machine, ratioText, row, stopChild, versions, writeResult
} from './harness.js'
import { load, type LoadResult } from './load.js'
import { accessToken, keyPair, tokenPool } from './tokens.js'

const MODES = [
  { mode: 'bare', name: 'bare route (no auth)' },
  { mode: 'ours', name: '@authcenter/verifier plugin' },
  { mode: 'fastify-jwt', name: '@fastify/jwt' },
  { mode: 'fastify-jwt-cache', name: '@fastify/jwt (cache: true)' },
  { mode: 'jose', name: 'jose jwtVerify hook' }
] as const

export async function runHttp (opts: Options): Promise<Result> {
  const t0 = performance.now()
  const rounds = opts.quick ? 3 : 5
  const seconds = opts.quick ? 1 : 5
  const connections = 10
  const kp = keyPair('EdDSA')
  const token = accessToken(kp)
  const servers = new Map<string, { child: ChildProcess, port: number }>()
  const tables: Table[] = []
  try {
    // Started together (each is its own process), checked one by one.
    const started = await Promise.allSettled(MODES.map(async (m) => {
      const { child, message } = await forkTs<{ port: number }>('servers/route-server.ts', [m.mode], { env: { BENCH_JWK: JSON.stringify(kp.jwk) } })
      servers.set(m.mode, { child, port: message.port })
    }))
    const failed = started.find((s) => s.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
    for (const m of MODES) {
      const { port } = servers.get(m.mode)!
      const message = { port }
      // Correctness: the guarded routes answer 200 with the token and 401 without it.
      const url = `http://127.0.0.1:${message.port}/me`
      const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
      const body = await ok.json() as { id: string }
      const none = await fetch(url)
      if (ok.status !== 200 || (m.mode !== 'bare' && (none.status !== 401 || body.id === 'anonymous'))) {
        throw new Error(`${m.mode}: expected 200 with a token and 401 without, got ${ok.status} / ${none.status}`)
      }
    }

    const last = new Map<string, LoadResult>()
    const extra = (name: string): Record<string, number> | undefined => {
      const r = last.get(name)
      return r === undefined ? undefined : { 'p50 ms': r.p50, 'p99 ms': r.p99, 'non-2xx': r.non2xx + r.errors + r.timeouts }
    }
    const contenders = (requests?: () => autocannon.Request[]): Contender[] => MODES.map((m) => ({
      name: m.name,
      measure: async (round) => {
        const { port } = servers.get(m.mode)!
        // A short warm-up in the first round so that every server is JIT-warm before it is timed.
        if (round === 0) await load({ url: `http://127.0.0.1:${port}/me`, seconds: opts.quick ? 0.5 : 1, connections, headers: { authorization: `Bearer ${token}` } })
        const r = await load({
          url: `http://127.0.0.1:${port}/me`,
          seconds,
          connections,
          headers: { authorization: `Bearer ${token}` },
          ...(requests !== undefined ? { requests: requests() } : {})
        })
        last.set(m.name, r)
        return r.rps
      }
    }))

    const repeated = await compare({
      title: `GET /me, EdDSA, repeated token (${connections} connections, ${seconds} s per sample)`,
      unit: 'req/s',
      baseline: MODES[0].name,
      rounds,
      contenders: contenders(),
      extra,
      log
    })
    tables.push(repeated)

    if (!opts.quick) {
      const poolSize = 20_000
      const pool = tokenPool(kp, poolSize).map((t) => `Bearer ${t}`)
      let next = 0
      const firstTime = await compare({
        title: `GET /me, EdDSA, first-time tokens (a different token on every request, from ${poolSize.toLocaleString('en-US')} signed beforehand)`,
        unit: 'req/s',
        baseline: MODES[0].name,
        rounds,
        contenders: contenders(() => [{
          method: 'GET',
          path: '/me',
          setupRequest: (req) => {
            req.headers = { ...req.headers, authorization: pool[next++ % poolSize]! }
            return req
          }
        }]),
        extra,
        log,
        notes: ['The pool is cycled: a cache of more than 1000 entries could see a token again after 20,000 requests; @fastify/jwt (cache: true) keeps 1000.']
      })
      tables.push(firstTime)
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => stopChild(s.child)))
  }

  const targets: Target[] = []
  const rep = tables[0]!
  const ours = row(rep, MODES[1].name)
  targets.push({
    name: 'authenticated route, repeated token: ≥ 0.8 × bare route',
    target: '≥ 0.80×',
    value: `${ratioText(ours?.ratio)} (${fmt(ours?.median)} vs ${fmt(row(rep, MODES[0].name)?.median)} req/s)`,
    met: ours?.ratio != null ? ours.ratio >= 0.8 : null,
    ...(ours?.ratio != null && ours.ratio < 0.8 ? { why: 'below 0.8 of the bare route in this run' } : {})
  })

  const result: Result = {
    name: 'http-route',
    title: 'Authenticated Fastify route over HTTP',
    date: new Date().toISOString(),
    durationSeconds: (performance.now() - t0) / 1000,
    mode: opts.quick ? 'quick' : 'full',
    rounds,
    machine: machine(),
    versions: versions(['fastify', '@authcenter/verifier', '@fastify/jwt', 'fast-jwt', 'jose', 'autocannon']),
    tables,
    targets,
    notes: [
      'Every server is its own Node process on 127.0.0.1 (port 0), logger off; the route answers {id, name}. autocannon runs in the bench process with pipelining 1; a 1 s warm-up precedes the first sample of every server.',
      '@fastify/jwt and the jose hook check alg, iss, aud and typ at+jwt; the verifier plugin also checks kid, refused headers and required claims. Keys: the verifier loads the JWKS (fetch stub), the others get the public key directly.',
      `On this ${machine().cores}-core machine the server and autocannon share the CPUs: the bare route is partly bounded by the load generator, which flatters the ratios of the guarded routes.`
    ]
  }
  writeResult(result)
  return result
}
