import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { startPostgres, startRedis } from '@authcenter/testkit'
import { feedVerifier, freePort, login, startFeedAuthCenter, startProxy, until, verdict } from './helpers.js'

// One shared store each time: Redis (the feed log is a Stream), then PostgreSQL alone (the
// log is a table, and revocations reach the other replicas through LISTEN/NOTIFY).
const stores: Array<[string, (t: Test) => Promise<Record<string, string>>]> = [
  ['one Redis', async (t) => {
    const redis = await startRedis()
    t.teardown(() => redis.close())
    return { REDIS_URL: redis.url }
  }],
  ['PostgreSQL alone', async (t) => {
    const pg = await startPostgres()
    t.teardown(() => pg.close())
    return { DATABASE_URL: await pg.newDatabase() }
  }]
]

for (const [where, shared] of stores) t.test(`three auth-center replicas on ${where}: revoked at one, refused at a verifier following another; its replica dies, it resumes at the next from its cursor`, async (t) => {
  const storeEnv = await shared(t)
  // One issuer URL for all, as behind a load balancer (the proxy), which first leads to B.
  const lbPort = await freePort()
  const ports = [await freePort(), await freePort(), await freePort()] as const
  const lb = await startProxy(t, lbPort, ports[1])
  // Replicas share the store, so they share the key-encryption key too.
  const env = { ...storeEnv, AUTH_KEK: randomBytes(32).toString('base64url') }
  const [a, b, c] = [
    await startFeedAuthCenter(t, { issuer: lb.url, port: ports[0], env }),
    await startFeedAuthCenter(t, { issuer: lb.url, port: ports[1], env }),
    await startFeedAuthCenter(t, { issuer: lb.url, port: ports[2], env })
  ]
  const direct = (port: number): string => `http://127.0.0.1:${port}`
  const verify = feedVerifier(t, lb.url)
  await verify.ready()
  // ready() is the snapshot; the stream follows it at once.
  for (let i = 0; i < 300 && b.app.revocationHub.connections === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(b.app.revocationHub.connections, 1, 'the verifier follows B')
  t.equal(a.app.revocationHub.connections + c.app.revocationHub.connections, 0)

  const first = await login(direct(ports[0]), 'first')
  const second = await login(direct(ports[2]), 'second')
  t.equal(await verdict(verify, first.access_token), 'ok')
  await fetch(`${direct(ports[0])}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${first.access_token}` } })
  t.equal(await until(verify, first.access_token, 'TOKEN_REVOKED'), 'TOKEN_REVOKED', 'revoked at A, refused through B')

  // B dies; the balancer now leads to C. A revocation made at A meanwhile arrives after the reconnect.
  lb.target = ports[2]
  await b.close()
  await fetch(`${direct(ports[0])}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${second.access_token}` } })
  t.equal(await until(verify, second.access_token, 'TOKEN_REVOKED', 8000), 'TOKEN_REVOKED', 'revoked at A while B was dying, refused after resuming at C')
  t.equal(c.app.revocationHub.connections, 1, 'the verifier now follows C')
  t.equal(a.snapshots + b.snapshots + c.snapshots, 1, 'one snapshot in all: C resumed from the cursor B had given')
  t.equal(verify.revocation?.loads, 1)
})
