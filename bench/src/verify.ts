/**
 * Benchmark 1: verifying an access token in process.
 *
 * Contenders, per algorithm (EdDSA, ES256, RS256):
 * - raw node:crypto verify (sync): split + base64url-decode + crypto.verify, no claim check: the physical limit
 * - EdDSA: raw libsodium verify (sync): the same with crypto_sign_verify_detached (sodium-native): the new limit
 * - raw node:crypto verify inside an async function, awaited: the fair baseline for an async API
 * - @authcenter/verifier (async; EdDSA through libsodium when it loads, and once more forced onto node:crypto),
 *   jose jwtVerify (async), fast-jwt (cache off / on, sync), jsonwebtoken (sync)
 *
 * Scenarios:
 * - first-time: every call gets a token never seen before (a pool signed beforehand; every cache-capable
 *   contender is a fresh instance each round, so nothing is cached from an earlier round)
 * - repeated: the same token on every call
 */
import { verify as cryptoVerify } from 'node:crypto'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { createVerifier as ourVerifier, ed25519Backend } from '@authcenter/verifier'
import { createVerifier as fastJwtVerifier } from 'fast-jwt'
import { jwtVerify } from 'jose'
import jsonwebtoken from 'jsonwebtoken'
import { renderVerifyChart } from './chart.js'
import {
  type Contender, type Options, type Result, type Table, type Target,
  compare, fmt, log, machine, median, ratioText, row, versions, writeResult
} from './harness.js'
import { ALGS, AUDIENCE, ISSUER, JWKS_URI, type KeyPair, accessToken, jwksFetch, keyPair, tokenPool } from './tokens.js'

type VerifyFn = (token: string) => unknown

interface Candidate {
  name: string
  async: boolean
  note?: string
  /** A new, ready instance (keys loaded), or a reason why this contender cannot do it. */
  make: (kp: KeyPair) => Promise<VerifyFn>
  /** Whether the returned value proves the token verified (the subject). */
  subject: (value: unknown) => unknown
}

export const RAW = 'node:crypto verify (sync)'
export const RAW_ASYNC = 'node:crypto verify (async fn)'
export const RAW_PARSE = 'node:crypto verify + JSON.parse (sync)'
export const RAW_SODIUM = 'libsodium verify (raw)'
export const OURS = '@authcenter/verifier'
export const OURS_NODE = '@authcenter/verifier (node:crypto Ed25519)'
export const OURS_NO_CACHE = '@authcenter/verifier (cache off)'
export const JOSE = 'jose jwtVerify'
export const FAST = 'fast-jwt (cache off)'
export const FAST_CACHE = 'fast-jwt (cache on)'
export const JWT = 'jsonwebtoken'

function rawVerify (kp: KeyPair): (token: string) => Record<string, unknown> {
  const { hash, verifyKey } = kp
  return (token) => {
    const dot = token.lastIndexOf('.')
    const ok = cryptoVerify(hash, Buffer.from(token.slice(0, dot), 'latin1'), verifyKey, Buffer.from(token.slice(dot + 1), 'base64url'))
    if (!ok) throw new Error('bad signature')
    // The subject is read only for the correctness check; it is not part of the timed limit
    // (returning true keeps the baseline at the bare signature check).
    return RAW_OK
  }
}
const RAW_OK = { ok: true }

/** The one call of sodium-native used here (its types are a dev dependency of the verifier, not of the bench). */
interface Sodium { crypto_sign_verify_detached: (signature: Buffer, message: Buffer, publicKey: Buffer) => boolean }
/** sodium-native as the verifier loads it (the bench has no dependency of its own on it); `undefined` when it cannot load. */
const sodium: Sodium | undefined = (() => {
  try {
    return createRequire(import.meta.resolve('@authcenter/verifier'))('sodium-native') as Sodium
  } catch {
    return undefined
  }
})()

/** The raw baseline with libsodium's crypto_sign_verify_detached on the 32 key bytes instead of crypto.verify. */
function rawSodiumVerify (kp: KeyPair): (token: string) => Record<string, unknown> {
  if (kp.alg !== 'EdDSA') throw new Error('Ed25519 only')
  if (sodium === undefined) throw new Error('sodium-native cannot be loaded')
  const lib = sodium
  const key = Buffer.from(kp.jwk.x!, 'base64url')
  return (token) => {
    const dot = token.lastIndexOf('.')
    if (!lib.crypto_sign_verify_detached(Buffer.from(token.slice(dot + 1), 'base64url'), Buffer.from(token.slice(0, dot), 'latin1'), key)) throw new Error('bad signature')
    return RAW_OK
  }
}

/** Our verifier with AUTHCENTER_ED25519 set to `backend` while it is created (the backend is chosen then). */
async function ourVerifierOn (kp: KeyPair, backend: 'node' | undefined): Promise<VerifyFn> {
  const saved = process.env.AUTHCENTER_ED25519
  if (backend !== undefined) process.env.AUTHCENTER_ED25519 = backend
  let verify
  try {
    verify = ourVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: jwksFetch({ keys: [kp.jwk] }), algorithms: [kp.alg] })
  } finally {
    if (saved === undefined) delete process.env.AUTHCENTER_ED25519
    else process.env.AUTHCENTER_ED25519 = saved
  }
  await verify(accessToken(kp)) // loads the JWKS
  return verify
}

/** The raw baseline plus decoding and parsing the claims: the least any verifier that reads claims must do. */
function rawVerifyParse (kp: KeyPair): (token: string) => Record<string, unknown> {
  const { hash, verifyKey } = kp
  return (token) => {
    const dot2 = token.lastIndexOf('.')
    const ok = cryptoVerify(hash, Buffer.from(token.slice(0, dot2), 'latin1'), verifyKey, Buffer.from(token.slice(dot2 + 1), 'base64url'))
    if (!ok) throw new Error('bad signature')
    return JSON.parse(Buffer.from(token.slice(token.indexOf('.') + 1, dot2), 'base64url').toString('utf8')) as Record<string, unknown>
  }
}

const candidates: Candidate[] = [
  {
    name: RAW,
    async: false,
    make: async (kp) => rawVerify(kp),
    subject: (v) => (v === RAW_OK ? 'ok' : undefined)
  },
  {
    name: RAW_ASYNC,
    async: true,
    make: async (kp) => {
      const raw = rawVerify(kp)
      return async (token: string) => raw(token)
    },
    subject: (v) => (v === RAW_OK ? 'ok' : undefined)
  },
  {
    name: RAW_PARSE,
    async: false,
    note: 'the floor for any verifier that reads the claims: no header, claim or binding check',
    make: async (kp) => rawVerifyParse(kp),
    subject: (v) => (v as { sub: string }).sub
  },
  {
    name: RAW_SODIUM,
    async: false,
    note: 'split + base64url-decode + crypto_sign_verify_detached (sodium-native): the physical limit with libsodium',
    make: async (kp) => rawSodiumVerify(kp),
    subject: (v) => (v === RAW_OK ? 'ok' : undefined)
  },
  {
    name: OURS,
    async: true,
    make: async (kp) => ourVerifierOn(kp, undefined),
    subject: (v) => (v as { sub: string }).sub
  },
  {
    name: OURS_NODE,
    async: true,
    note: 'AUTHCENTER_ED25519=node: the verifier where sodium-native is not installed',
    make: async (kp) => {
      if (kp.alg !== 'EdDSA') throw new Error('Ed25519 only (other algorithms always use node:crypto)')
      return ourVerifierOn(kp, 'node')
    },
    subject: (v) => (v as { sub: string }).sub
  },
  {
    name: OURS_NO_CACHE,
    async: true,
    note: 'cache: false: what the verified-token cache costs a token seen once',
    make: async (kp) => {
      const verify = ourVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: jwksFetch({ keys: [kp.jwk] }), algorithms: [kp.alg], cache: false })
      await verify(accessToken(kp))
      return verify
    },
    subject: (v) => (v as { sub: string }).sub
  },
  {
    name: JOSE,
    async: true,
    note: 'KeyObject passed directly (its fastest path), typ at+jwt, iss, aud checked',
    make: async (kp) => {
      const key = kp.publicKey
      const options = { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', algorithms: [kp.alg] }
      return (token: string) => jwtVerify(token, key, options)
    },
    subject: (v) => (v as { payload: { sub: string } }).payload.sub
  },
  {
    name: FAST,
    async: false,
    note: 'PEM key, checkTyp at+jwt, allowedIss, allowedAud',
    make: async (kp) => fastJwtVerifier({ key: kp.pem, algorithms: [kp.alg as 'EdDSA'], allowedIss: ISSUER, allowedAud: AUDIENCE, checkTyp: 'at+jwt', cache: false }),
    subject: (v) => (v as { sub: string }).sub
  },
  {
    name: FAST_CACHE,
    async: false,
    note: 'as above with cache: true (LRU of 1000, key = hash of the token)',
    make: async (kp) => fastJwtVerifier({ key: kp.pem, algorithms: [kp.alg as 'EdDSA'], allowedIss: ISSUER, allowedAud: AUDIENCE, checkTyp: 'at+jwt', cache: true }),
    subject: (v) => (v as { sub: string }).sub
  },
  {
    name: JWT,
    async: false,
    note: 'KeyObject, issuer, audience (no typ check available)',
    make: async (kp) => {
      const options = { algorithms: [kp.alg as jsonwebtoken.Algorithm], issuer: ISSUER, audience: AUDIENCE }
      const key = kp.publicKey
      return (token: string) => jsonwebtoken.verify(token, key, options)
    },
    subject: (v) => (v as { sub: string }).sub
  }
]

/** Checks a contender on this algorithm: accepts a good token, refuses a tampered one. Returns a reason when it cannot. */
async function check (c: Candidate, kp: KeyPair): Promise<string | undefined> {
  try {
    const fn = await c.make(kp)
    const sub = 'check-subject'
    const token = accessToken(kp, { sub })
    const value = await fn(token)
    const got = c.subject(value)
    if (got !== sub && got !== 'ok') return `returned ${JSON.stringify(got)}`
    const sig = token.slice(token.lastIndexOf('.') + 1)
    const flipped = token.slice(0, token.lastIndexOf('.') + 1) + (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)
    let refused = false
    try { await fn(flipped) } catch { refused = true }
    if (!refused) return 'accepted a tampered signature'
    return undefined
  } catch (err) {
    return `cannot verify ${kp.alg}: ${(err as Error).message.slice(0, 80)}`
  }
}

/** Milliseconds to verify these tokens once each, in order. */
async function timeTokens (fn: VerifyFn, async: boolean, tokens: readonly string[]): Promise<number> {
  const n = tokens.length
  const t0 = performance.now()
  if (async) for (let i = 0; i < n; i++) await fn(tokens[i]!)
  else for (let i = 0; i < n; i++) fn(tokens[i]!)
  return performance.now() - t0
}

/** Milliseconds to verify the same token `calls` times. */
async function timeSame (fn: VerifyFn, async: boolean, token: string, calls: number): Promise<number> {
  const t0 = performance.now()
  if (async) for (let i = 0; i < calls; i++) await fn(token)
  else for (let i = 0; i < calls; i++) fn(token)
  return performance.now() - t0
}

const SLICE_MS = 10
/** Tokens per interleaved chunk in the first-time scenario. */
const CHUNK = 100

/**
 * One round of the first-time scenario for every live contender: fresh
 * instances, warmed up on other tokens, then the pool in chunks, every chunk
 * verified by each contender in turn (rotating order). Interleaving this
 * finely spreads the machine's noise evenly over the contenders.
 */
async function firstTimeRound (live: readonly Candidate[], kp: KeyPair, warm: readonly string[], chunks: readonly string[][]): Promise<Map<string, number>> {
  const fns: VerifyFn[] = []
  for (const c of live) {
    const fn = await c.make(kp)
    await timeTokens(fn, c.async, warm)
    fns.push(fn)
  }
  const elapsed = live.map(() => 0)
  const counts = live.map(() => 0)
  for (let k = 0; k < chunks.length; k++) {
    for (let j = 0; j < live.length; j++) {
      const i = (j + k) % live.length
      elapsed[i]! += await timeTokens(fns[i]!, live[i]!.async, chunks[k]!)
      counts[i]! += chunks[k]!.length
    }
  }
  return new Map(live.map((c, i) => [c.name, counts[i]! / (elapsed[i]! / 1000)]))
}

/** One round of the repeated scenario: slices of about SLICE_MS per contender, interleaved, `ms` in all for each. */
async function repeatedRound (live: readonly Candidate[], kp: KeyPair, token: string, ms: number): Promise<Map<string, number>> {
  const fns: VerifyFn[] = []
  const batch: number[] = []
  for (const c of live) {
    const fn = await c.make(kp)
    // Warm-up, and calibration: how many calls take about SLICE_MS.
    let calls = 64
    let t = await timeSame(fn, c.async, token, calls)
    while (t < SLICE_MS) { calls *= 2; t = await timeSame(fn, c.async, token, calls) }
    fns.push(fn)
    batch.push(Math.max(1, Math.round(calls * SLICE_MS / t)))
  }
  const elapsed = live.map(() => 0)
  const counts = live.map(() => 0)
  const slices = Math.max(3, Math.round(ms / SLICE_MS))
  for (let k = 0; k < slices; k++) {
    for (let j = 0; j < live.length; j++) {
      const i = (j + k) % live.length
      elapsed[i]! += await timeSame(fns[i]!, live[i]!.async, token, batch[i]!)
      counts[i]! += batch[i]!
    }
  }
  return new Map(live.map((c, i) => [c.name, counts[i]! / (elapsed[i]! / 1000)]))
}

/** Adds µs per call and the overhead over the raw baseline (µs): what a verifier spends besides crypto.verify. */
function perCall (table: Table): void {
  const raw = row(table, RAW)?.median
  for (const r of table.rows) {
    if (r.median === null) continue
    r.extra = { ...r.extra, 'µs/call': 1e6 / r.median, 'µs over raw': raw != null ? 1e6 / r.median - 1e6 / raw : NaN }
  }
  table.extraColumns = ['µs/call', 'µs over raw']
}

/** What limits the first-time ratio, from this run's own rows: the floor every claim-reading verifier pays, and the cache's share. */
function firstTimeWhy (first: Table): string {
  const raw = row(first, RAW)?.median
  const floor = row(first, RAW_PARSE)?.median
  const ours = row(first, OURS)?.median
  const off = row(first, OURS_NO_CACHE)?.median
  if (raw == null || floor == null || ours == null) return 'see the table'
  const parts = [`decoding and parsing the claims alone (${RAW_PARSE}) reaches ${ratioText(floor / raw)} of raw in this run; the verifier reaches ${ratioText(ours / floor)} of that floor`]
  if (off != null) parts.push(`with cache: false ${ratioText(off / raw)} of raw (the default cache remembers every verified token: its insertion is the difference)`)
  return parts.join('; ')
}

/** What keeps the verifier on libsodium under 0.9× of the raw call, from this run's own rows. */
function sodiumWhy (first: Table): string {
  const lib = row(first, RAW_SODIUM)?.median
  const off = row(first, OURS_NO_CACHE)?.median
  const ours = row(first, OURS)?.median
  if (lib == null || off == null || ours == null) return 'see the table'
  return `with cache: false the verifier reaches ${ratioText(off / lib)} of libsodium verify (raw) in this run (${(1e6 / off - 1e6 / lib).toFixed(1)} µs per token over it: header, claims, checks, one await); the default verifier (its cache on) spends ${(1e6 / ours - 1e6 / off).toFixed(1)} µs more than with cache: false here (alone, 800 first-time tokens a round, the two measured the same: 0.99×), a larger share of libsodium's shorter verify`
}

/** Issue #17: libsodium's raw verify against crypto.verify, and the verifier on libsodium against that new limit. */
function sodiumTargets (first: Table): Target[] {
  const raw = row(first, RAW)?.median
  const lib = row(first, RAW_SODIUM)?.median
  const ours = row(first, OURS)?.median
  const oursNode = row(first, OURS_NODE)?.median
  const libRatio = lib != null && raw != null ? lib / raw : null
  const oursRatio = ours != null && lib != null ? ours / lib : null
  return [{
    name: 'EdDSA first-time: libsodium verify (raw) ≥ 1.6 × raw crypto.verify',
    target: '≥ 1.6×',
    value: `${ratioText(libRatio)} (${fmt(lib)} vs ${fmt(raw)}/s)`,
    met: libRatio != null ? libRatio >= 1.6 : null,
    ...(libRatio != null && libRatio < 1.6 ? { why: 'the two raw rows differ only in the library call: this is libsodium\'s Ed25519 verify against OpenSSL\'s on this CPU, at this load' } : {})
  }, {
    name: `EdDSA first-time: verifier (${ed25519Backend()}) ≥ 0.9 × libsodium verify (raw)`,
    target: '≥ 0.9×',
    value: `${ratioText(oursRatio)} (${fmt(ours)} vs ${fmt(lib)}/s; on node:crypto ${fmt(oursNode)}/s, ${ratioText(oursNode != null && raw != null ? oursNode / raw : null)} of raw crypto.verify)`,
    met: oursRatio != null ? oursRatio >= 0.9 : null,
    ...(oursRatio != null && oursRatio < 0.9 ? { why: sodiumWhy(first) } : {})
  }]
}

export async function runVerify (opts: Options): Promise<Result> {
  const started = performance.now()
  const rounds = opts.quick ? 3 : 7
  const poolSize = opts.quick ? 800 : 4000
  const warmSize = opts.quick ? 200 : 1000
  const repeatMs = opts.quick ? 100 : 500
  const tables: Table[] = []
  const targets: Target[] = []
  const sizes: string[] = []

  for (const alg of ALGS) {
    const kp = keyPair(alg)
    const pool = tokenPool(kp, poolSize)
    const warm = tokenPool(kp, warmSize)
    sizes.push(`${alg} ${pool[0]!.length} bytes`)
    const repeated = accessToken(kp)
    log(`verify ${alg}: ${poolSize} tokens of ${pool[0]!.length} bytes signed`)

    const reasons = new Map<string, string | undefined>()
    for (const c of candidates) reasons.set(c.name, await check(c, kp))

    const asContender = (c: Candidate, note?: string): Contender => ({
      name: c.name,
      ...(reasons.get(c.name) !== undefined ? { unsupported: reasons.get(c.name)! } : {}),
      ...(note !== undefined ? { note } : c.note !== undefined ? { note: c.note } : {})
    })
    const liveOf = (names: readonly string[]): Candidate[] => candidates.filter((c) => names.includes(c.name))
    const chunks: string[][] = []
    for (let i = 0; i < pool.length; i += CHUNK) chunks.push(pool.slice(i, i + CHUNK))
    const first = await compare({
      title: `${alg}: first-time tokens (${pool[0]!.length}-byte token, ${poolSize} distinct per round)`,
      unit: 'verifies/s',
      baseline: RAW,
      rounds,
      contenders: candidates.map((c) => asContender(c)),
      measureRound: async (_round, names) => firstTimeRound(liveOf(names), kp, warm, chunks),
      log
    })
    perCall(first)
    tables.push(first)

    const rep = await compare({
      title: `${alg}: repeated token (the same token every call)`,
      unit: 'verifies/s',
      baseline: RAW,
      rounds,
      contenders: candidates.map((c) => asContender(c, c.name === OURS ? 'verified-token cache on (default); first-time tokens are always fully verified' : undefined)),
      measureRound: async (_round, names) => repeatedRound(liveOf(names), kp, repeated, repeatMs),
      log
    })
    perCall(rep)
    tables.push(rep)

    const ours = row(first, OURS)
    const rawAsync = row(first, RAW_ASYNC)
    if (alg === 'EdDSA') targets.push(...sodiumTargets(first))
    const beaten = [FAST, JOSE].map((n) => row(first, n)).filter((r) => r?.median != null)
    const ahead = ours?.median != null && beaten.every((r) => ours.median! > r!.median!)
    targets.push({
      name: `${alg} first-time: verifier ≥ 0.95 × raw node:crypto`,
      target: '≥ 0.95×',
      value: `${ratioText(ours?.ratio)} (${fmt(ours?.median)} vs ${fmt(row(first, RAW)?.median)}/s; vs async raw ${ratioText(ours?.median != null && rawAsync?.median != null ? ours.median / rawAsync.median : null)})`,
      met: ours?.ratio != null ? ours.ratio >= 0.95 : null,
      ...(ours?.ratio != null && ours.ratio < 0.95 ? { why: firstTimeWhy(first) } : {})
    })
    targets.push({
      name: `${alg} first-time: verifier ahead of fast-jwt and jose`,
      target: '> both',
      value: `${fmt(ours?.median)} vs fast-jwt ${fmt(row(first, FAST)?.median)}, jose ${fmt(row(first, JOSE)?.median)}`,
      met: ours?.median != null ? ahead : null
    })
    const oursRep = row(rep, OURS)
    const fastRep = row(rep, FAST_CACHE)
    targets.push({
      name: `${alg} repeated: verifier ≥ fast-jwt cache`,
      target: '≥ 1.00× fast-jwt (cache on)',
      value: `${ratioText(oursRep?.median != null && fastRep?.median != null ? oursRep.median / fastRep.median : null)} (${fmt(oursRep?.median)} vs ${fmt(fastRep?.median)}/s)`,
      met: oursRep?.median != null && fastRep?.median != null ? oursRep.median >= fastRep.median : null,
      ...(oursRep?.median != null && fastRep?.median != null && oursRep.median < fastRep.median ? { why: 'slower than fast-jwt\'s cache in this run' } : {})
    })
  }

  const result: Result = {
    name: 'verify',
    title: 'Verify an access token, in process',
    date: new Date().toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
    mode: opts.quick ? 'quick' : 'full',
    rounds,
    machine: machine(),
    versions: versions(['@authcenter/verifier', 'jose', 'fast-jwt', 'jsonwebtoken']),
    tables,
    targets,
    notes: [
      `Token sizes: ${sizes.join(', ')}. Claims iss, sub, aud, exp, iat, jti, client_id, sid, scope; header alg, typ at+jwt, kid (as the auth center issues them).`,
      'First-time: each round verifies a pool of distinct tokens signed beforehand; every contender is a new instance each round and is warmed up on other tokens, so no cache can hold a measured token.',
      `Interleaving: within a round the contenders take turns on chunks of ${CHUNK} tokens (first-time) or slices of about ${SLICE_MS} ms (repeated), the order rotating every chunk, so that the machine's noise falls evenly on all of them; a round's sample is calls / summed time.`,
      `Baseline "${RAW}": split at the last dot, base64url-decode the signature, crypto.verify with a KeyObject; no header, claim or JSON work. "${RAW_ASYNC}" is the same inside an async function, awaited per call: the fair baseline for an async API (the difference is the cost of one await).`,
      '@authcenter/verifier loads its key through the JWKS (a fetch stub, no socket) and checks typ, kid, refused headers, iss, aud, exp, nbf, iat and required claims.',
      `Ed25519 backend of "${OURS}" in this run: ${ed25519Backend()} (libsodium through sodium-native when it loads); "${OURS_NODE}" is created with AUTHCENTER_ED25519=node. "${RAW_SODIUM}" is the raw baseline with crypto_sign_verify_detached instead of crypto.verify (EdDSA only). The verifier on either backend also checks the encodings (S < L, R canonical and not of small order) before the library runs.`,
      'jsonwebtoken has no EdDSA support and no typ check; fast-jwt and jose check typ when asked (they are).',
      `Medians of ${rounds} rounds.`
    ]
  }
  writeResult(result)
  renderVerifyChart(result)
  return result
}

export { median }
