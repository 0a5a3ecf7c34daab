// Revocation through a real redis-server: the test plays the auth center by
// writing the protocol of docs/revocation-protocol.md itself (HSET + ZADD +
// PUBLISH in one script), then stops, restarts, flushes and kills
// connections to show the verifier never trusts a list it may have missed
// something of.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { startRedis } from '@authcenter/testkit'
import { createVerifier } from '../src/index.js'
import type { RedisLike, Verifier, VerifierOptions } from '../src/index.js'
import { AUDIENCE, makeKey, refuses, startAuthServer, token } from './helpers.js'

const key = await makeKey('EdDSA')
const server = await startAuthServer([key.jwk])
t.teardown(() => server.close())
const shared = await startRedis()
t.teardown(() => shared.close())

const HOUR = 3_600_000
const nowSeconds = (): number => Math.floor(Date.now() / 1000)
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
let prefixes = 0
const newPrefix = (): string => `t${++prefixes}:`

// The auth center's revocation script, reduced to the feed: epoch SET NX,
// hash, zset and PUBLISH in one atomic step.
const REVOKE = `
redis.call('SET', KEYS[3], ARGV[4], 'NX')
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if ARGV[5] == '1' then redis.call('PUBLISH', KEYS[4], ARGV[1] .. '=' .. ARGV[2]) end
return 1`

interface Writer {
  redis: Redis
  prefix: string
  revoke: (field: string, options?: { revokedAtMs?: number, ttlMs?: number, exceptSid?: string, publish?: boolean }) => Promise<void>
}

async function writer (t: { teardown: (fn: () => unknown) => void }, url: string, prefix: string, epochMs = Date.now() - HOUR): Promise<Writer> {
  const redis = new Redis(url, { maxRetriesPerRequest: 3, retryStrategy: () => 50 })
  redis.on('error', () => {})
  t.teardown(() => redis.disconnect())
  // The auth center creates the epoch at its start.
  await redis.set(`${prefix}epoch`, `${epochMs}:writer`, 'NX')
  return {
    redis,
    prefix,
    async revoke (field, { revokedAtMs = Date.now(), ttlMs = 130_000, exceptSid, publish = true } = {}) {
      const value = `${revokedAtMs}:${revokedAtMs + ttlMs}${exceptSid === undefined ? '' : `:${exceptSid}`}`
      await redis.eval(REVOKE, 4, `${prefix}deny`, `${prefix}deny:exp`, `${prefix}epoch`, `${prefix}revocations`,
        field, value, String(revokedAtMs + ttlMs), `${Date.now()}:writer`, publish ? '1' : '0')
    }
  }
}

interface Logged { level: string, obj: Record<string, unknown>, msg: string }
function captureLogger (): { logs: Logged[], logger: NonNullable<NonNullable<VerifierOptions['revocation']>['logger']> } {
  const logs: Logged[] = []
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => { logs.push({ level, obj, msg }) }
  return { logs, logger: { info: at('info'), warn: at('warn'), error: at('error') } }
}

function make (t: { teardown: (fn: () => unknown) => void }, revocation: NonNullable<VerifierOptions['revocation']>): { verify: Verifier, logs: Logged[] } {
  const { logger, logs } = captureLogger()
  const verify = createVerifier({ issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri, revocation: { logger, ...revocation } })
  t.teardown(() => verify.close())
  return { verify, logs }
}

/** Polls until verify(tok) gives `code` (or passes when code is 'OK'); returns the ms it took, or -1. */
async function until (verify: Verifier, tok: string, code: string, limitMs: number): Promise<number> {
  const start = Date.now()
  while (Date.now() - start <= limitMs) {
    const got = await verify(tok).then(() => 'OK', (err: { code?: string }) => err.code)
    if (got === code) return Date.now() - start
    await sleep(2)
  }
  return -1
}

t.test('a session revoked in Redis is refused within milliseconds of the PUBLISH', async (t) => {
  const prefix = newPrefix()
  const w = await writer(t, shared.url, prefix)
  await w.revoke('s:before-start', { publish: false })
  const { verify, logs } = make(t, { redis: shared.url, prefix })
  await verify.ready()
  t.equal(verify.revocation?.fresh, true)
  t.equal(verify.revocation?.size, 1)
  await refuses(t, verify, token(server, key, { sid: 'before-start' }), 'TOKEN_REVOKED', 'loaded by HSCAN at start')

  const delays: number[] = []
  for (let i = 0; i < 20; i++) {
    const tok = token(server, key, { sid: `live-${i}` })
    t.ok(await verify(tok), 'accepted before')
    const start = Date.now()
    await w.revoke(`s:live-${i}`)
    const took = await until(verify, tok, 'TOKEN_REVOKED', 1000)
    t.not(took, -1, `live-${i} refused within 1 s`)
    delays.push(Date.now() - start)
  }
  delays.sort((a, b) => a - b)
  t.comment(`revoke → refusal, same process, ms: p50 ${delays[10]}, max ${delays[19]}`)
  t.ok(await verify(token(server, key, { sid: 'untouched' })), 'other sessions pass')
  t.ok(logs.some((l) => /denylist loaded/.test(l.msg)))
})

t.test('user-level revocation through Redis: never-seen sessions, later tokens, exceptSid', async (t) => {
  const prefix = newPrefix()
  const w = await writer(t, shared.url, prefix)
  const second = nowSeconds() - 5
  await w.revoke('u:loaded', { revokedAtMs: second * 1000 })
  const { verify } = make(t, { redis: shared.url, prefix })
  await verify.ready()
  await refuses(t, verify, token(server, key, { sub: 'loaded', sid: 'a', iat: second - 30 }), 'TOKEN_REVOKED', 'loaded user entry')

  await w.revoke('u:user-9', { revokedAtMs: second * 1000 + 10, exceptSid: 'changer' })
  const old = token(server, key, { sub: 'user-9', sid: 'never-seen', iat: second - 30 })
  t.not(await until(verify, old, 'TOKEN_REVOKED', 1000), -1, 'older token of a session never seen is refused')
  t.ok(await verify(token(server, key, { sub: 'user-9', sid: 'fresh-login', iat: second + 2 })), 'token issued after passes')
  t.ok(await verify(token(server, key, { sub: 'user-9', sid: 'changer', iat: second - 30 })), 'exceptSid is spared')
})

t.test('a revocation written while the subscriber was disconnected is enforced after the reconnect', async (t) => {
  const prefix = newPrefix()
  const w = await writer(t, shared.url, prefix)
  const { verify, logs } = make(t, { redis: shared.url, prefix })
  await verify.ready()
  const tok = token(server, key, { sid: 'missed' })
  t.ok(await verify(tok))
  // Kill the subscriber and write the entry in one transaction, without PUBLISH:
  // nothing can reach the verifier but its reload after reconnecting.
  const result = await w.redis.multi()
    .call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    .hset(`${prefix}deny`, 's:missed', `${Date.now()}:${Date.now() + 130_000}`)
    .exec()
  t.ok((result?.[0]?.[1] as number) >= 1, 'the subscriber connection was killed')
  t.not(await until(verify, tok, 'TOKEN_REVOKED', 3000), -1, 'refused after the reload')
  t.equal(verify.revocation?.fresh, true)
  t.ok(logs.some((l) => l.level === 'warn' && /stale/.test(l.msg)), 'the disconnect is logged')
  t.ok(logs.some((l) => l.level === 'info' && /fresh again/.test(l.msg)), 'the reload is logged')
})

t.test('an entry written without PUBLISH is enforced after a Redis restart (persisted data)', async (t) => {
  const redis = await startRedis({ persist: true })
  t.teardown(() => redis.close())
  const prefix = newPrefix()
  const w = await writer(t, redis.url, prefix)
  const { verify } = make(t, { redis: redis.url, prefix, maxStaleness: 10_000 })
  await verify.ready()
  const tok = token(server, key, { sid: 'lost-message' })
  await w.revoke('s:lost-message', { publish: false })
  t.ok(await verify(tok), 'not known yet: the message was lost')
  await redis.stop()
  await sleep(100)
  t.equal(verify.revocation?.fresh, false, 'stale while Redis is down')
  t.ok(await verify(tok), 'closed mode still uses the last list within maxStaleness')
  await redis.start()
  t.not(await until(verify, tok, 'TOKEN_REVOKED', 5000), -1, 'refused after the reconnect reload')
})

t.test('Redis restarting empty: the verifier waits for the new epoch (it never writes) and refuses tokens issued before it', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const prefix = newPrefix()
  await writer(t, redis.url, prefix)
  const { verify, logs } = make(t, { redis: redis.url, prefix })
  await verify.ready()
  const before = token(server, key, { iat: nowSeconds() - 1 })
  t.ok(await verify(before))
  const oldEpoch = verify.revocation?.epoch
  await redis.stop()
  await redis.start() // empty
  const check = new Redis(redis.url)
  t.teardown(() => check.disconnect())
  await sleep(300)
  t.equal(await check.get(`${prefix}epoch`), null, 'the verifier did not write an epoch')
  // The auth center recreates it (its feed does within a heartbeat).
  await check.set(`${prefix}epoch`, `${Date.now()}:after-restart`, 'NX')
  t.not(await until(verify, before, 'TOKEN_REVOKED', 7000), -1, 'a token issued before the reset is refused')
  t.not(verify.revocation?.epoch, oldEpoch, 'new epoch')
  t.ok(logs.some((l) => /epoch changed/.test(l.msg)), 'the reset is logged')
  const createdAt = Number(verify.revocation!.epoch!.split(':')[0])
  t.ok(await verify(token(server, key, { iat: (createdAt + 1) / 1000 })), 'a token issued 1 ms after the new epoch passes')
})

t.test('FLUSHALL with a new epoch (connections survive) is noticed by the periodic epoch check', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const prefix = newPrefix()
  const w = await writer(t, redis.url, prefix)
  const { verify } = make(t, { redis: redis.url, prefix, epochCheckInterval: 100 })
  await verify.ready()
  const before = token(server, key, { iat: nowSeconds() - 2 })
  t.ok(await verify(before))
  await w.redis.flushall()
  await w.redis.set(`${prefix}epoch`, `${Date.now()}:after-flush`)
  t.not(await until(verify, before, 'TOKEN_REVOKED', 2000), -1, 'refused once the epoch change is seen')
  t.equal(verify.revocation?.epoch?.endsWith(':after-flush'), true)

  // FLUSHALL, then the auth center recreates the epoch a few ms later: millisecond
  // resolution, so a token of the same second, issued before the reset, is covered.
  const mid = token(server, key, { iat: Date.now() / 1000 })
  t.ok(await verify(mid), 'issued after the current epoch')
  await sleep(5)
  await w.redis.flushall()
  t.equal(await w.redis.get(`${prefix}epoch`), null, 'the verifier does not recreate it')
  await w.redis.set(`${prefix}epoch`, `${Date.now()}:second-flush`)
  t.not(await until(verify, mid, 'TOKEN_REVOKED', 2000), -1, 'refused after the epoch changed, even within the same second')
})

t.test('failMode closed: REVOCATION_UNAVAILABLE after maxStaleness without Redis, recovery after', async (t) => {
  const redis = await startRedis({ persist: true })
  t.teardown(() => redis.close())
  const prefix = newPrefix()
  const w = await writer(t, redis.url, prefix)
  await w.revoke('s:revoked')
  const { verify, logs } = make(t, { redis: redis.url, prefix, maxStaleness: 300 })
  await verify.ready()
  const tok = token(server, key, { sid: 'fine' })
  const revoked = token(server, key, { sid: 'revoked' })
  t.ok(await verify(tok))
  await redis.stop()
  t.ok(await verify(tok), 'within maxStaleness the last list serves')
  const took = await until(verify, tok, 'REVOCATION_UNAVAILABLE', 2000)
  t.not(took, -1, `refused with REVOCATION_UNAVAILABLE after ${took} ms`)
  await refuses(t, verify, revoked, 'TOKEN_REVOKED', 'a token the stale list knows as revoked still says so')
  t.ok(logs.some((l) => l.level === 'error' && /failing closed/.test(l.msg)), 'fail closed is logged')
  await redis.start()
  t.not(await until(verify, tok, 'OK', 5000), -1, 'accepted again once reloaded')
  t.equal(verify.revocation?.fresh, true)
  const text = JSON.stringify(logs)
  t.notOk(text.includes(tok) || text.includes('fine') || text.includes('revoked"'), 'no token or session id in the logs')
})

t.test('failMode open: keeps accepting on the last list without Redis', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const prefix = newPrefix()
  const w = await writer(t, redis.url, prefix)
  await w.revoke('s:revoked')
  const { verify, logs } = make(t, { redis: redis.url, prefix, maxStaleness: 100, failMode: 'open' })
  await verify.ready()
  await redis.stop()
  await sleep(400)
  t.equal(verify.revocation?.fresh, false)
  t.ok(await verify(token(server, key, { sid: 'fine' })), 'accepted while stale')
  await refuses(t, verify, token(server, key, { sid: 'revoked' }), 'TOKEN_REVOKED', 'the last list still applies')
  t.ok(logs.some((l) => /failing open/.test(l.msg)), 'failing open is logged')
})

t.test('closed mode while Redis is down at start: requests wait at most maxStaleness, then 503', async (t) => {
  const redis = await startRedis()
  const url = redis.url
  await redis.close()
  const { verify, logs } = make(t, { redis: url, maxStaleness: 300 })
  const started = Date.now()
  await refuses(t, verify, token(server, key), 'REVOCATION_UNAVAILABLE', 'no list ever loaded')
  t.ok(Date.now() - started < 10_000, 'bounded, not a hang')
  t.ok(logs.some((l) => /connection error/.test(l.msg)), 'the connection error is logged')
})

t.test('an ioredis client passed in: reads through it, subscribes on a duplicate, never closes it', async (t) => {
  const prefix = newPrefix()
  const w = await writer(t, shared.url, prefix)
  const client = new Redis(shared.url)
  t.teardown(() => client.disconnect())
  const asRedisLike: RedisLike = client // compile-time: ioredis fits RedisLike
  const { verify } = make(t, { redis: asRedisLike, prefix })
  await verify.ready()
  const tok = token(server, key, { sid: 'via-client' })
  t.ok(await verify(tok))
  await w.revoke('s:via-client')
  t.not(await until(verify, tok, 'TOKEN_REVOKED', 1000), -1)
  await verify.close()
  t.equal(client.status, 'ready', 'the client passed in is still open')
  t.equal(await client.ping(), 'PONG')
})

t.test('close() leaves no open handles: a process that used the Redis feed exits by itself', async (t) => {
  const script = fileURLToPath(new URL('./fixtures/close-exits.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script, shared.url, server.issuer, server.jwksUri], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  const [code, signal] = await once(child, 'exit') as [number | null, string | null]
  clearTimeout(timer)
  t.equal(signal, null, 'not killed by the 10 s timeout')
  t.equal(code, 0)
  t.match(out, /closed/)
})
