/**
 * The floor route of issue #17: a bare Fastify POST /floor that does what a refresh
 * cannot avoid and nothing else: one EVALSHA on its own Redis (read the session hash,
 * write the new refresh token into it: the rotation's shape, one key) and one EdDSA
 * access token of the auth center's claims, signed through the same ed25519() backend.
 * Answers the same JSON shape as POST /auth/refresh, so the chained load drives both.
 * BENCH_REDIS_URL is its Redis. Sends `{ port, backend }` over IPC; exits with the parent.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { ed25519 } from '@authcenter/verifier/ed25519'

const ISSUER = 'http://127.0.0.1'
const AUDIENCE = 'authcenter'
// HGETALL then HSET on one hash: the read-decide-write of a rotation, without its decisions.
const SCRIPT = `
local s = redis.call('HGETALL', KEYS[1])
redis.call('HSET', KEYS[1], 'rt', ARGV[1], 'at', ARGV[2], 'uid', ARGV[3])
redis.call('PEXPIRE', KEYS[1], 2592000000)
return #s`

const ed = ed25519()
// A fresh key of the same algorithm and size as the auth center's (its key is sealed; signing cost does not depend on the key).
const key = ed.importPrivateKey(generateKeyPairSync('ed25519').privateKey)
const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: randomBytes(16).toString('base64url') })).toString('base64url')
const redis = new Redis(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: false })
const sha = await redis.script('LOAD', SCRIPT) as string

const app = Fastify({ logger: false })
app.post<{ Body: { refresh_token: string } }>('/floor', {
  schema: { body: { type: 'object', required: ['refresh_token'], properties: { refresh_token: { type: 'string', minLength: 1, maxLength: 200 } } } }
}, async (request) => {
  const sid = request.body.refresh_token.split('.')[0]!
  const next = `${sid}.${randomBytes(32).toString('base64url')}`
  const now = Date.now()
  await redis.evalsha(sha, 1, `floor:sess:${sid}`, next, String(now), `user-${sid}`)
  const second = Math.floor(now / 1000)
  const payload = {
    iss: ISSUER, sub: `user-${sid}`, aud: AUDIENCE, exp: second + 900, iat: now / 1000,
    jti: randomBytes(16).toString('base64url'), client_id: 'default', ac_kind: 'first-party', sid
  }
  const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`
  const token = `${input}.${ed.sign(key, Buffer.from(input)).toString('base64url')}`
  return { access_token: token, token_type: 'Bearer', expires_in: 900, refresh_token: next }
})

await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0, backend: ed.name })
process.on('disconnect', () => { void app.close().then(() => redis.quit()).finally(() => process.exit(0)) })
process.on('SIGTERM', () => { void app.close().then(() => redis.quit()).finally(() => process.exit(0)) })
