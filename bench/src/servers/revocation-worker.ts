/**
 * A verifier in a process of its own, for the revocation benchmark. argv[2]:
 *
 * - `watch <redisUrl | http> <issuer> <audience> <jwksUri>`: a verifier following the
 *   auth center's feed, through Redis (`revocation: { redis }`) or, with `http`, the
 *   auth center's HTTP feed (`revocation: { clientId, clientSecret }`, the built-in
 *   development reader). Sends `{ ready, entries }`, then
 *   for every `{ id, token, sid }` message: verifies the token once (it must pass:
 *   `{ id, ok: true }`), then verifies it again and again (one call per
 *   setImmediate turn, so pub/sub I/O is read between two calls) until it is
 *   refused, and sends `{ id, t1, tApplied, code, calls }`: t1 = when the first
 *   refusal was seen, tApplied = when `onRevocation` reported `s:<sid>`
 *   (both `performance.timeOrigin + performance.now()`, comparable across processes).
 * - `cost <redisUrl> <prefix> <rounds> <poolSize> <chunk> <cache>`: verify
 *   throughput with the revocation feed on versus off, same tokens, alternating
 *   in chunks inside each round; sends `{ on: number[], off: number[], entries }`.
 * - `memory <redisUrl> <prefix>` (with --expose-gc): heap before creating a verifier
 *   with revocation, and after `ready()`; sends `{ before, after, loadMs, entries, rss }`.
 */
import { performance } from 'node:perf_hooks'
import { createVerifier, type Verifier, type VerifierOptions } from '@authcenter/verifier'
import { AUDIENCE, ISSUER, JWKS_URI, jwksFetch, keyPair, tokenPool } from '../tokens.js'

const mode = process.argv[2]
const now = (): number => performance.timeOrigin + performance.now()
const quiet = { info () {}, warn () {}, error (obj: unknown, msg?: string) { process.stderr.write(`revocation worker: ${msg ?? ''} ${JSON.stringify(obj)}\n`) } }

function send (message: unknown): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()))
}

// The parent going away (bench failed, timeout) ends this process too.
process.on('disconnect', () => process.exit(0))

if (mode === 'watch') {
  const [, , , redisUrl, issuer, audience, jwksUri] = process.argv as string[]
  const verify = createVerifier({
    issuer: issuer!,
    audience: audience!,
    jwksUri: jwksUri!,
    algorithms: ['EdDSA'],
    revocation: redisUrl === 'http'
      ? { clientId: 'dev-revocations', clientSecret: 'dev-revocations-secret-not-for-production', logger: quiet }
      : { redis: redisUrl!, logger: quiet }
  })
  await verify.ready()
  const applied = new Map<string, number>()
  verify.revocation!.onRevocation((field) => { applied.set(field, now()) })

  process.on('message', (m: { id: number, token: string, sid: string }) => {
    void watch(m)
  })
  await send({ ready: true, entries: verify.revocation!.size })

  async function watch (m: { id: number, token: string, sid: string }): Promise<void> {
    try {
      await verify(m.token)
    } catch (err) {
      await send({ id: m.id, ok: false, error: `${(err as { code?: string }).code ?? ''} ${(err as Error).message}` })
      return
    }
    await send({ id: m.id, ok: true })
    let calls = 0
    const deadline = Date.now() + 10_000
    const loop = (): void => {
      calls++
      verify(m.token).then(() => {
        if (Date.now() > deadline) {
          void send({ id: m.id, t1: null, tApplied: applied.get(`s:${m.sid}`) ?? null, code: 'STILL_VALID_AFTER_10S', calls })
          return
        }
        setImmediate(loop)
      }, (err: { code?: string }) => {
        const t1 = now()
        const field = `s:${m.sid}`
        const tApplied = applied.get(field) ?? null
        applied.delete(field)
        void send({ id: m.id, t1, tApplied, code: err.code ?? String(err), calls })
      })
    }
    loop()
  }
} else if (mode === 'cost') {
  const [, , , redisUrl, prefix, roundsArg, poolArg, chunkArg, cacheArg] = process.argv as string[]
  const rounds = Number(roundsArg)
  const poolSize = Number(poolArg)
  const chunk = Number(chunkArg)
  const kp = keyPair('EdDSA')
  const fetch = jwksFetch({ keys: [kp.jwk] })
  // `cache: false` only when this verifier version has a verified-token cache option (see revocation.ts).
  const extra: Record<string, unknown> = cacheArg === 'off' ? { cache: false } : {}
  const base: VerifierOptions = { issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch, algorithms: ['EdDSA'], ...extra }
  const make = async (on: boolean): Promise<Verifier> => {
    const v = createVerifier(on ? { ...base, revocation: { redis: redisUrl!, prefix, logger: quiet } } : base)
    await v.ready()
    return v
  }
  const time = async (v: Verifier, tokens: readonly string[]): Promise<number> => {
    const t0 = performance.now()
    for (const t of tokens) await v(t)
    return performance.now() - t0
  }
  const on: number[] = []
  const off: number[] = []
  let entries = 0
  // Signed after the parent wrote the epoch, so no token predates it.
  const warm = tokenPool(kp, 500)
  for (let r = 0; r < rounds; r++) {
    const pool = tokenPool(kp, poolSize)
    // Fresh instances every round (a cache, if any, never holds a measured token), warmed on other tokens.
    const vOn = await make(true)
    const vOff = await make(false)
    entries = vOn.revocation!.size
    await time(vOn, warm)
    await time(vOff, warm)
    let tOn = 0
    let tOff = 0
    for (let i = 0, k = 0; i < pool.length; i += chunk, k++) {
      const slice = pool.slice(i, i + chunk)
      // The order flips every chunk, so neither always runs first.
      if ((k + r) % 2 === 0) { tOn += await time(vOn, slice); tOff += await time(vOff, slice) } else { tOff += await time(vOff, slice); tOn += await time(vOn, slice) }
    }
    on.push(pool.length / (tOn / 1000))
    off.push(pool.length / (tOff / 1000))
    await vOn.close()
    await vOff.close()
  }
  await send({ on, off, entries })
  process.exit(0)
} else if (mode === 'memory') {
  const [, , , redisUrl, prefix] = process.argv as string[]
  // ioredis is imported by the verifier on demand: load the module first, so that its code is not counted.
  await import('ioredis')
  const heap = (): number => {
    for (let i = 0; i < 3; i++) globalThis.gc!()
    return process.memoryUsage().heapUsed
  }
  const before = heap()
  const t0 = performance.now()
  const v = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, algorithms: ['EdDSA'], revocation: { redis: redisUrl!, prefix, logger: quiet } })
  await v.ready()
  const loadMs = performance.now() - t0
  const entries = v.revocation!.size
  ;(globalThis as Record<string, unknown>).__benchKeep = v
  const after = heap()
  await send({ before, after, loadMs, entries, rss: process.memoryUsage().rss })
  await v.close()
  process.exit(0)
} else {
  process.stderr.write(`revocation worker: unknown mode ${String(mode)}\n`)
  process.exit(2)
}
