import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { startRedis } from '@authcenter/testkit'
import { createVerifier } from '@authcenter/verifier'
import { J, login, startFeedAuthCenter, until, verdict } from './helpers.js'

/** The README's line (prefix `ac:`), word for word. */
const aclLine = (password: string): string[] => [
  'revocation-reader', 'on', `>${password}`, 'resetkeys', 'resetchannels', '-@all',
  '+get', '+hscan', '+subscribe', '+ping', '+info', '+client|setname',
  '%R~ac:deny', '%R~ac:epoch', '&ac:revocations'
]

t.test('Redis as a verifier transport, only as an ACL user restricted to the denylist keys and the feed channel: it works, and reads no session, code or key', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const ac = await startFeedAuthCenter(t, { env: { REDIS_URL: redis.url, AUTH_KEK: randomBytes(32).toString('base64url') } })
  const base = `http://127.0.0.1:${ac.port}`
  const admin = new Redis(redis.url)
  t.teardown(() => admin.disconnect())
  const password = randomBytes(24).toString('base64url')
  t.equal(await admin.call('ACL', 'SETUSER', ...aclLine(password)), 'OK')
  const url = new URL(redis.url)
  url.username = 'revocation-reader'
  url.password = password

  const verify = createVerifier({ issuer: base, audience: 'authcenter', revocation: { redis: url.toString(), logger: { info () {}, warn () {}, error () {} } } })
  t.teardown(() => verify.close())
  await verify.ready()
  const s = await login(base)
  t.equal(await verdict(verify, s.access_token), 'ok')
  await fetch(`${base}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${s.access_token}` } })
  t.equal(await until(verify, s.access_token, 'TOKEN_REVOKED'), 'TOKEN_REVOKED', 'the restricted user follows the feed')

  // A code waiting in Redis, a session, the sealed keys: everything but the feed is out of reach.
  t.equal((await fetch(`${base}/auth/sms-code`, { method: 'POST', headers: J, body: JSON.stringify({ mobile: '13800138001' }) })).status, 202)
  const reader = new Redis(url.toString())
  t.teardown(() => reader.disconnect())
  const all = await admin.keys('*')
  const others = all.filter((k) => k !== 'ac:deny' && k !== 'ac:epoch')
  t.ok(others.some((k) => k.startsWith('ac:s:')), 'there is a session')
  t.ok(others.some((k) => k.endsWith(':sms')), 'there is an SMS code')
  t.ok(others.includes('ac:keys'), 'there are the signing keys')
  for (const key of others) {
    const type = await admin.type(key)
    const read = type === 'hash' ? reader.hscan(key, '0') : type === 'string' ? reader.get(key) : reader.call('XRANGE', key, '-', '+')
    await t.rejects(read, /NOPERM/, `cannot read ${key} (${type})`)
  }
  await t.rejects(reader.keys('*'), /NOPERM/, 'cannot list keys')
  await t.rejects(reader.call('HSET', 'ac:deny', 's:forged', '1:2'), /NOPERM/, 'cannot write the denylist')
  await t.rejects(reader.set('ac:epoch', '1:x'), /NOPERM/, 'cannot reset the epoch')
  await t.rejects(reader.call('PUBLISH', 'ac:revocations', 's:x=1:2'), /NOPERM/, 'cannot publish')
  t.ok(await reader.hscan('ac:deny', '0'), 'reads the denylist')
})
