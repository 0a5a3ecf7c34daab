// The verifier's metrics hooks (issue #15): an older build or this one (old), this one without hooks (new), with no-op hooks (hooked):
// repeated-token and first-time-token verifies/s, interleaved rounds, medians, ratios to old.
import { generateKeyPairSync, sign, randomUUID } from 'node:crypto'
// Usage: node bench/scripts/verifier-hooks.mjs [path/to/an/older/verifier/dist/index.js]
// (for 'before': git archive 3148638 packages/verifier tsconfig.base.json | tar -x -C /tmp/old, build it there)
const cur = await import(new URL('../../packages/verifier/dist/index.js', import.meta.url).href)
const old = process.argv[2] !== undefined ? await import(process.argv[2]) : cur
const { publicKey, privateKey } = generateKeyPairSync('ed25519')
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'EdDSA', use: 'sig' }
const ISS = 'https://issuer.example'
const fetch = async () => new Response(JSON.stringify({ keys: [jwk] }), { headers: { 'content-type': 'application/json' } })
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
function tok () {
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' })}.${b64({ iss: ISS, aud: 'api', sub: 'u', exp: now + 3600, iat: now, jti: randomUUID(), client_id: 'c' })}`
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`
}
const opts = { issuer: ISS, audience: 'api', jwksUri: `${ISS}/jwks`, fetch, logger: { warn () {}, info () {} } }
let sink = 0
const hooks = { onVerify: () => { sink++ }, onCache: () => { sink++ }, onJwksFetch: () => { sink++ } }
const make = { old: () => old.createVerifier(opts), new: () => cur.createVerifier(opts), hooked: () => cur.createVerifier({ ...opts, metrics: hooks }) }
const vs = {}
const repeated = tok()
for (const [k, f] of Object.entries(make)) { vs[k] = f(); await vs[k](repeated) }
const pool = Array.from({ length: 4000 }, tok)
async function rate (v, mode) {
  if (mode === 'repeated') {
    const n = 200_000; const t0 = performance.now()
    for (let i = 0; i < n; i++) await v(repeated)
    return n / ((performance.now() - t0) / 1000)
  }
  v.cache?.clear(); const t0 = performance.now()
  for (const t of pool) await v(t)
  return pool.length / ((performance.now() - t0) / 1000)
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)] }
for (const mode of ['repeated', 'first-time']) {
  const r = { old: [], new: [], hooked: [] }
  for (let round = 0; round < 9; round++) for (const k of (round % 2 ? ['hooked', 'new', 'old'] : ['old', 'new', 'hooked'])) r[k].push(await rate(vs[k], mode))
  const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, med(v)]))
  console.log(`${mode}: before hooks ${Math.round(m.old)}/s; no hooks ${Math.round(m.new)}/s (${(m.new / m.old).toFixed(3)}x); no-op hooks ${Math.round(m.hooked)}/s (${(m.hooked / m.old).toFixed(3)}x)`)
}
