/**
 * Memory of one verifier after it verified every token of a file (one JWS per
 * line), measured in a process of its own (run with --expose-gc). argv[2]:
 *   tokens-only | ours | fast-jwt-cache | fast-jwt
 * Sends `{ before, after, rss, seconds, verified }` (bytes) over IPC.
 */
import { readFileSync } from 'node:fs'
import { createVerifier } from '@authcenter/verifier'
import { createVerifier as fastJwtVerifier } from 'fast-jwt'
import { AUDIENCE, ISSUER, JWKS_URI, jwksFetch } from '../tokens.js'

const mode = process.argv[2] ?? 'tokens-only'
const file = process.argv[3]!
const { jwk, tokens } = JSON.parse(readFileSync(file, 'utf8')) as { jwk: Record<string, string>, tokens: string[] }

function heap (): number {
  for (let i = 0; i < 3; i++) globalThis.gc!()
  return process.memoryUsage().heapUsed
}

let verify: ((t: string) => unknown) | undefined
if (mode === 'ours' || mode === 'ours-cache') {
  // 'ours': the default cache (10,000 entries); 'ours-cache': a cache as large as the token count, like fast-jwt's here.
  verify = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: jwksFetch({ keys: [jwk] }), algorithms: ['EdDSA'], ...(mode === 'ours-cache' ? { cache: { max: tokens.length } } : {}) })
} else if (mode === 'fast-jwt-cache' || mode === 'fast-jwt') {
  const pem = (await import('node:crypto')).createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'spki' }) as string
  verify = fastJwtVerifier({ key: pem, algorithms: ['EdDSA'], allowedIss: ISSUER, allowedAud: AUDIENCE, checkTyp: 'at+jwt', cache: mode === 'fast-jwt-cache' ? tokens.length : false })
}
// Warm: key loaded, code paths compiled (these few stay in a cache too, as they would in a service).
if (verify !== undefined) await verify(tokens[0]!)

// Held from a global so that neither V8 nor the TS transpiler can treat the verifier as dead
// before the measurement ('void verify' at the end is dropped by esbuild).
;(globalThis as Record<string, unknown>).__benchKeep = [verify, tokens]

const before = heap()
const t0 = performance.now()
let verified = 0
if (verify !== undefined) {
  for (const t of tokens) { await verify(t); verified++ }
}
const seconds = (performance.now() - t0) / 1000
const after = heap()
process.send!({ before, after, rss: process.memoryUsage().rss, seconds, verified }, () => process.exit(0))
