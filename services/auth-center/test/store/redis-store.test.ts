import { once } from 'node:events'
import { createServer, connect, type AddressInfo, type Socket } from 'node:net'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { startRedis } from '@authcenter/testkit'
import { createRedisStore, redisClientOptions, type Session, type Store } from '../../src/store/index.js'
import { storeContract } from './contracts.js'
import { DEFAULT_DENY_TTL_MS } from '../../src/store/denylist.js'

const server = await startRedis()
t.teardown(() => server.close())

/** A client as the app makes it (through @fastify/redis), connected and ready. */
async function newClient (t: Test, url: string): Promise<Redis> {
  const client = new Redis(url, redisClientOptions)
  // Without a listener ioredis prints every reconnect failure; the tests expect them.
  client.on('error', () => {})
  t.teardown(() => { client.disconnect() })
  if (client.status !== 'ready') await once(client, 'ready')
  return client
}

await storeContract(t, 'redis', async () => {
  const client = new Redis(server.url, redisClientOptions)
  client.on('error', () => {})
  await once(client, 'ready')
  // A fresh prefix per store: subtests share one server but never each other's keys.
  const store = createRedisStore(client, { prefix: `t:${randomUUID()}:` })
  return { store, teardown: async () => { await store.close(); await client.quit() } }
})

function newSession (userId: string, now: number, over: Partial<Session> = {}): Session {
  return {
    id: randomUUID(), userId, clientId: 'app', createdAt: now, lastUsedAt: now,
    expiresAt: now + 60_000, refreshGen: 1, rotatedAt: 0, refreshNonce: 'n', ...over
  }
}

const DAY = 24 * 3600_000

t.test('redis layout', async (t) => {
  t.test('sessions live in Redis until expiresAt plus one day; rotation extends that', async (t) => {
    const client = await newClient(t, server.url)
    const store = createRedisStore(client, { prefix: 'layout1:' })
    const now = Date.now()
    const s = newSession('u1', now)
    await store.createSession(s)
    const ttl = await client.pttl(`layout1:s:{${s.id}}`)
    t.ok(ttl > DAY + 55_000 && ttl <= DAY + 60_000, `ttl ${ttl}`)

    await store.rotateRefresh({ sessionId: s.id, presentedGen: 1, now, graceMs: 1000, newExpiresAt: now + 3_600_000 })
    const extended = await client.pttl(`layout1:s:{${s.id}}`)
    t.ok(extended > DAY + 3_590_000, `ttl after rotation ${extended}`)
    t.equal(await client.zscore('layout1:u:{u1}:sessions', s.id), String(now), 'indexed by createdAt')
  })

  t.test('a rotation gives back every text field as saved (its reply is the hash as one JSON string)', async (t) => {
    const client = await newClient(t, server.url)
    const store = createRedisStore(client, { prefix: 'layout6:' })
    const now = Date.now()
    const s = newSession('u1', now, {
      deviceName: 'a\u0000"\\/\n\u2028é😀', userAgent: 'Mozilla/5.0 (ÿ; þ) {"x":[1]}', ip: '::1', scope: 'a b', kind: 'first-party'
    })
    await store.createSession(s)
    const rotated = await store.rotateRefresh({ sessionId: s.id, presentedGen: 1, now: now + 1, graceMs: 1000, newExpiresAt: now + 120_000 })
    t.equal(rotated.status, 'rotated')
    t.strictSame(rotated.session, { ...s, refreshGen: 2, rotatedAt: now + 1, lastUsedAt: now + 1, expiresAt: now + 120_000 })
    const grace = await store.rotateRefresh({ sessionId: s.id, presentedGen: 1, now: now + 2, graceMs: 1000, newExpiresAt: now + 120_000 })
    t.equal(grace.status, 'grace')
    t.strictSame(grace.session, rotated.session, 'the grace answer reads the same hash')
  })

  t.test('absent optional fields are not written to the hash', async (t) => {
    const client = await newClient(t, server.url)
    const store = createRedisStore(client, { prefix: 'layout2:' })
    const s = newSession('u1', Date.now())
    await store.createSession(s)
    const fields = Object.keys(await client.hgetall(`layout2:s:{${s.id}}`)).sort()
    t.strictSame(fields, Object.keys(s).sort())
  })

  t.test('index members whose session is gone or revoked are pruned on read', async (t) => {
    const client = await newClient(t, server.url)
    const store = createRedisStore(client, { prefix: 'layout3:' })
    const now = Date.now()
    const live = newSession('u1', now)
    const gone = newSession('u1', now + 1)
    const revoked = newSession('u1', now + 2)
    for (const s of [live, gone, revoked]) await store.createSession(s)
    await client.del(`layout3:s:{${gone.id}}`)
    await store.revokeSession(revoked.id, 'logout', now)

    t.strictSame((await store.listUserSessions('u1', now)).map((s) => s.id), [live.id])
    await pollUntil(async () => (await client.zcard('layout3:u:{u1}:sessions')) === 1)
    t.strictSame(await client.zrange('layout3:u:{u1}:sessions', 0, '-1'), [live.id])
  })

  t.test('200 logins of one user, most logged out: the index stays bounded without any list', async (t) => {
    const client = await newClient(t, server.url)
    const prefix = `layout-many:${randomUUID()}:`
    const store = createRedisStore(client, { prefix })
    const now = Date.now()
    const live: string[] = []
    for (let i = 0; i < 200; i++) {
      const s = newSession('u1', now + i)
      await store.createSession(s)
      if (i % 10 === 0) live.push(s.id)
      else await store.revokeSession(s.id, 'logout', now)
    }
    await sleep(100) // the sampled prune runs after each login, in the background
    const size = await client.zcard(`${prefix}u:{u1}:sessions`)
    t.ok(size >= live.length && size <= 40, `index of ${size} members for ${live.length} live sessions after 200 logins`)
    t.strictSame((await store.listUserSessions('u1', now)).map((s) => s.id), live, 'the live ones, oldest first')
  })

  t.test('a login past the prune threshold reads a bounded sample of the index, not every session', async (t) => {
    const client = await newClient(t, server.url)
    const prefix = `layout-sample:${randomUUID()}:`
    const store = createRedisStore(client, { prefix })
    const now = Date.now()
    // 21, 29, ..., 197 were sampled (all live), so the 205th login samples again.
    for (let i = 0; i < 204; i++) await store.createSession(newSession('u1', now + i))
    await sleep(50)
    let reads = 0
    for (const name of ['hgetall', 'hmget', 'hget'] as const) {
      const original = client[name].bind(client) as (...args: unknown[]) => unknown
      ;(client as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => { reads++; return original(...args) }
    }
    await store.createSession(newSession('u1', now + 500))
    await sleep(50)
    t.equal(reads, 16, `${reads} session reads for one login into an index of 205`)
    t.equal(await client.zcard(`${prefix}u:{u1}:sessions`), 205, 'every member is live: nothing dropped')
    t.equal((await store.listUserSessions('u1', now)).length, 205)
  })

  t.test('one client\'s tokens, all live: one prune (16 reads) per 8 tokens past the threshold; dead members found, pruned at every login again', async (t) => {
    // A Redis of its own: INFO commandstats counts every command the store sends, exactly.
    const own = await startRedis()
    t.teardown(() => own.close())
    const client = await newClient(t, own.url)
    const store = createRedisStore(client, { prefix: 'burst:' })
    const index = 'burst:u:{svc}:sessions'
    const now = Date.now()
    await client.config('RESETSTAT')
    const ids: string[] = []
    for (let i = 0; i < 100; i++) {
      const s = newSession('svc', now + i)
      ids.push(s.id)
      await store.createSession(s)
    }
    // Sizes 21, 29, ..., 93 sample the index; each sample finds all 16 live.
    await pollUntil(async () => (await commandCalls(client)).hmget === 160)
    await sleep(50)
    t.strictSame(await commandCalls(client), { zrandmember: 10, hmget: 160, zrem: 0 }, '10 prunes for 100 tokens (80 before)')
    t.equal(await client.zcard(index), 100, 'nothing dropped')

    for (const id of ids) await store.revokeSession(id, 'admin', now)
    await store.createSession(newSession('svc', now + 100)) // the 8th login since the last sample: samples again
    await pollUntil(async () => (await client.zcard(index)) <= 86)
    await store.createSession(newSession('svc', now + 101)) // that sample dropped members: the next login samples too
    await pollUntil(async () => (await client.zcard(index)) <= 73)
    await sleep(50)
    t.strictSame(await commandCalls(client), { zrandmember: 12, hmget: 192, zrem: 2 }, 'two more prunes, both dropping')
  })

  t.test('scripts are loaded again after the server forgets them (NOSCRIPT)', async (t) => {
    const client = await newClient(t, server.url)
    const store = createRedisStore(client, { prefix: 'layout4:' })
    t.equal((await store.hit('k', 5, 10_000)).count, 1)
    await client.script('FLUSH')
    t.equal((await store.hit('k', 5, 10_000)).count, 2)
  })

  t.test('a stored client is one JSON value under its id, listed in a set index', async (t) => {
    const client = await newClient(t, server.url)
    const prefix = `layout-clients:${randomUUID()}:`
    const store = createRedisStore(client, { prefix })
    await store.putClient({ clientId: 'a', createdAt: 1, registration: { client_id: 'a' } })
    await store.putClient({ clientId: 'b', createdAt: 2, registration: { client_id: 'b' } })
    await store.deleteClient('a')
    t.equal(await client.type(`${prefix}client:{b}`), 'string', 'one JSON value per client')
    t.strictSame(await client.smembers(`${prefix}clients`), ['b'], 'and a set index')
  })

  t.test('close() leaves the lent client open', async (t) => {
    const client = await newClient(t, server.url)
    const store = createRedisStore(client)
    await store.close()
    t.equal(await client.ping(), 'PONG')
  })

  t.test('a prefix that is not a string is a TypeError', async (t) => {
    const client = await newClient(t, server.url)
    t.throws(() => createRedisStore(client, { prefix: 42 as unknown as string }), TypeError)
  })
})

t.test('redis revocation feed (docs/revocation-protocol.md)', async (t) => {
  /** A plain ioredis subscriber, as a verifier in another process would have. */
  async function rawSubscriber (t: Test, url: string, channel: string): Promise<string[]> {
    const sub = new Redis(url)
    sub.on('error', () => {})
    t.teardown(() => { sub.disconnect() })
    const messages: string[] = []
    sub.on('message', (ch: string, m: string) => { if (ch === channel) messages.push(m) })
    await sub.subscribe(channel)
    return messages
  }

  t.test('a revocation is in ac:deny, ac:deny:exp and on ac:revocations, with the epoch, from one script', async (t) => {
    const client = await newClient(t, server.url)
    const store = createRedisStore(client, { prefix: 'feed1:', denyTtlMs: 60_000 })
    t.teardown(() => store.close())
    const messages = await rawSubscriber(t, server.url, 'feed1:revocations')
    const now = Date.now()
    const s = newSession('u1', now)
    await store.createSession(s)
    await client.del('feed1:epoch')

    await store.revokeSession(s.id, 'kicked', now)
    const value = `${now}:${now + 60_000}`
    await pollUntil(async () => messages.length === 1)
    t.strictSame(messages, [`s:${s.id}=${value}`], 'PUBLISH <field>=<value>')
    t.equal(await client.hget('feed1:deny', `s:${s.id}`), value, 'HSET field value')
    t.equal(await client.zscore('feed1:deny:exp', `s:${s.id}`), String(now + 60_000), 'ZADD expiresAt field')
    t.match(await client.get('feed1:epoch'), /^\d+:[0-9a-f]{16}$/, 'the script made the missing epoch')

    await store.revokeUserSessions('u1', 'password_changed', now + 1, 'keep-me')
    await pollUntil(async () => messages.length === 2)
    t.equal(messages[1], `u:u1=${now + 1}:${now + 60_001}:keep-me`)
    t.equal(await client.hget('feed1:deny', 'u:u1'), `${now + 1}:${now + 60_001}:keep-me`)
  })

  t.test('the store\'s own follower (a duplicate() connection on the feed log) gets the same messages with cursors, and closes with the store', async (t) => {
    const client = await newClient(t, server.url)
    const store = createRedisStore(client, { prefix: 'feed2:' })
    const got: string[] = []
    const cursors: string[] = []
    store.subscribeRevocations((m, c) => { got.push(m); cursors.push(c) })
    const snapshot = await store.denylist()
    const followers = async (): Promise<number> => String(await client.client('LIST')).split('\n').filter((l) => l.includes('cmd=xread')).length
    await pollUntil(async () => await followers() >= 1)
    const before = await followers()
    const now = Date.now()
    const s = newSession('u1', now)
    await store.createSession(s)
    await store.revokeSession(s.id, 'logout', now)
    await pollUntil(async () => got.length === 1)
    t.equal(got[0], `s:${s.id}=${now}:${now + DEFAULT_DENY_TTL_MS}`)
    t.same(await store.revocationsAfter(snapshot.cursor, 10), [{ message: got[0], cursor: cursors[0] }], 'the log resumes from the snapshot cursor')
    t.same(await store.revocationsAfter(cursors[0]!, 10), [], 'nothing after the last one')
    await store.close()
    await pollUntil(async () => await followers() < before)
  })

  t.test('denylist() reads the whole hash (HSCAN) and prune removes from hash and zset together', async (t) => {
    const client = await newClient(t, server.url)
    const store = createRedisStore(client, { prefix: 'feed3:', denyTtlMs: 1_000 })
    const now = Date.now()
    for (let i = 0; i < 1200; i++) await store.revokeUserSessions(`user-${i}`, 'admin', i < 1100 ? now - 2_000 : now)
    const all = await store.denylist()
    t.equal(all.entries.length, 1200)
    t.equal(await store.pruneDenylist(now), 1100, 'more than one batch')
    t.equal(await client.hlen('feed3:deny'), 100)
    t.equal(await client.zcard('feed3:deny:exp'), 100)
    t.equal((await store.denylist()).entries.length, 100)
  })

  t.test('the epoch is recreated with a later time after FLUSHALL and after an empty restart', async (t) => {
    const own = await startRedis()
    t.teardown(() => own.close())
    const client = await newClient(t, own.url)
    const store = createRedisStore(client)
    const t0 = Date.now()
    const first = await store.ensureEpoch(t0)
    t.equal(await store.ensureEpoch(t0 + 5_000), first, 'created once')
    t.equal(await client.get('ac:epoch'), first)

    await client.flushall()
    const s = newSession('u1', t0 + 10_000)
    await store.createSession(s)
    const afterFlush = await client.get('ac:epoch')
    t.ok(afterFlush !== null && Number(afterFlush.split(':')[0]) > Number(first.split(':')[0]),
      `a login after FLUSHALL makes a later epoch (${String(afterFlush)} > ${first})`)

    await own.stop()
    await own.start()
    await pollUntil(async () => await store.ping().then(() => true, () => false))
    t.equal(await client.get('ac:epoch'), null, 'the restart lost everything')
    await store.revokeUserSessions('u1', 'admin', t0 + 20_000)
    const afterRestart = await client.get('ac:epoch')
    t.ok(afterRestart !== null && Number(afterRestart.split(':')[0]) > Number(afterFlush!.split(':')[0]),
      'the first revocation after the restart makes a later epoch')
    t.equal((await store.denylist()).epoch, afterRestart)
  })
})

t.test('redis faults', async (t) => {
  t.test('with redis down every method fails fast with STORE_UNAVAILABLE, and works again once it is back', async (t) => {
    const own = await startRedis()
    t.teardown(() => own.close())
    const client = await newClient(t, own.url)
    const store = createRedisStore(client)
    const now = Date.now()
    const s = newSession('u1', now)
    await store.createSession(s)

    await own.stop()
    for (const [name, call] of everyMethod(s, now)) {
      await expectUnavailable(t, name, call(store))
    }

    await own.start()
    await pollUntil(async () => await store.ping().then(() => true, () => false))
    await store.createSession(s)
    t.equal((await store.getSession(s.id))?.id, s.id, 'works again without a new client or store')
    t.equal((await store.rotateRefresh({ sessionId: s.id, presentedGen: 1, now, graceMs: 0, newExpiresAt: now + 60_000 })).status, 'rotated',
      'scripts work on the restarted (empty) server')
  })

  t.test('a server that stops answering fails calls within the command timeout, and works again once it answers', async (t) => {
    const proxy = await startFreezableProxy(server.port)
    t.teardown(() => proxy.close())
    const client = await newClient(t, `redis://127.0.0.1:${proxy.port}`)
    const store = createRedisStore(client)
    await store.ping()

    proxy.freeze()
    await expectUnavailable(t, 'getSession', store.getSession('x'))
    await expectUnavailable(t, 'rotateRefresh', store.rotateRefresh({ sessionId: 'x', presentedGen: 1, now: Date.now(), graceMs: 0, newExpiresAt: Date.now() }))

    proxy.thaw()
    await pollUntil(async () => await store.ping().then(() => true, () => false))
    const s = newSession('u-hung', Date.now())
    await store.createSession(s)
    t.equal((await store.getSession(s.id))?.id, s.id, 'replies line up again after the hang')

    // Hung for longer than socketTimeout: the client drops the silent connection and
    // keeps reconnecting; meanwhile calls still fail in time, and it recovers after.
    proxy.freeze()
    await expectUnavailable(t, 'getSession (long hang)', store.getSession(s.id))
    await sleep(2_500)
    await expectUnavailable(t, 'getSession (after the socket timeout)', store.getSession(s.id))
    proxy.thaw()
    await pollUntil(async () => await store.ping().then(() => true, () => false))
    t.equal((await store.getSession(s.id))?.id, s.id, 'works again after a reconnect')
  })
})

async function expectUnavailable (t: Test, name: string, call: Promise<unknown>): Promise<void> {
  const started = Date.now()
  const err = await call.then(() => null, (e: unknown) => e)
  const elapsed = Date.now() - started
  t.match(err, { code: 'STORE_UNAVAILABLE', statusCode: 503 }, `${name} rejects with STORE_UNAVAILABLE`)
  t.ok(err instanceof Error && err.cause !== undefined, `${name} keeps the backend error as cause`)
  t.ok(elapsed < 2500, `${name} failed in ${elapsed} ms`)
}

function everyMethod (s: Session, now: number): Array<[string, (store: Store) => Promise<unknown>]> {
  const mobile = '+8613800138000'
  return [
    ['getUser', async (st) => await st.getUser('u1')],
    ['getUserByMobile', async (st) => await st.getUserByMobile(mobile)],
    ['getOrCreateUserByMobile', async (st) => await st.getOrCreateUserByMobile(mobile, { id: 'u1', mobile, createdAt: now })],
    ['setPassword', async (st) => { await st.setPassword('u1', 'h', now) }],
    ['issueSmsCode', async (st) => await st.issueSmsCode(mobile, 'h', { ttlMs: 1000, cooldownMs: 1000, maxAttempts: 5 })],
    ['checkSmsCode', async (st) => await st.checkSmsCode(mobile, 'h')],
    ['hit', async (st) => await st.hit('k', 1, 1000)],
    ['resetHits', async (st) => { await st.resetHits('k') }],
    ['createSession', async (st) => { await st.createSession(s) }],
    ['getSession', async (st) => await st.getSession(s.id)],
    ['rotateRefresh', async (st) => await st.rotateRefresh({ sessionId: s.id, presentedGen: 1, now, graceMs: 0, newExpiresAt: now })],
    ['revokeSession', async (st) => await st.revokeSession(s.id, 'x', now)],
    ['revokeUserSessions', async (st) => await st.revokeUserSessions('u1', 'x', now)],
    ['listUserSessions', async (st) => await st.listUserSessions('u1', now)],
    ['ensureEpoch', async (st) => await st.ensureEpoch(now)],
    ['denylist', async (st) => await st.denylist()],
    ['pruneDenylist', async (st) => await st.pruneDenylist(now)],
    ['ping', async (st) => { await st.ping() }]
  ]
}

/** Calls of the prune's commands since CONFIG RESETSTAT (INFO commandstats). */
async function commandCalls (client: Redis): Promise<{ zrandmember: number, hmget: number, zrem: number }> {
  const info = await client.info('commandstats')
  const calls = (name: string): number => Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0)
  return { zrandmember: calls('zrandmember'), hmget: calls('hmget'), zrem: calls('zrem') }
}

async function pollUntil (check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(50)
  }
}

/**
 * A TCP proxy to redis that can hang like a stopped server: while frozen it holds
 * the bytes in both directions (nothing is lost, as with TCP) and passes them on
 * when thawed.
 */
async function startFreezableProxy (targetPort: number): Promise<{ port: number, freeze (): void, thaw (): void, close (): Promise<void> }> {
  let frozen = false
  const sockets = new Set<Socket>()
  const flushers = new Set<() => void>()
  const proxy = createServer((down) => {
    const up = connect(targetPort, '127.0.0.1')
    const held: Array<[Socket, Buffer]> = []
    const forward = (to: Socket) => (b: Buffer) => { if (frozen) held.push([to, b]); else to.write(b) }
    const flush = (): void => { for (const [to, b] of held.splice(0)) to.write(b) }
    flushers.add(flush)
    for (const sock of [down, up]) {
      sockets.add(sock)
      sock.on('error', () => {})
      sock.on('close', () => { sockets.delete(sock); flushers.delete(flush) })
    }
    down.on('data', forward(up))
    up.on('data', forward(down))
    down.on('close', () => up.destroy())
    up.on('close', () => down.destroy())
  })
  proxy.listen(0, '127.0.0.1')
  await once(proxy, 'listening')
  return {
    port: (proxy.address() as AddressInfo).port,
    freeze () { frozen = true },
    thaw () {
      frozen = false
      for (const flush of flushers) flush()
    },
    async close () {
      for (const sock of sockets) sock.destroy()
      proxy.close()
      await once(proxy, 'close')
    }
  }
}

t.test('users: the uid pointer is written until the record says so, then a login writes nothing more to it', async (t) => {
  const client = await newClient(t, server.url)
  const prefix = `t:${randomUUID()}:`
  const store = createRedisStore(client, { prefix })
  t.teardown(async () => { await store.close() })
  const mobile = '+8613800000001'
  const { user, created } = await store.getOrCreateUserByMobile(mobile, { id: randomUUID(), mobile, createdAt: Date.now() })
  t.equal(created, true)
  t.equal(await client.get(`${prefix}uid:{${user.id}}`), mobile, 'first login: the pointer')
  t.equal(await client.hget(`${prefix}m:{${mobile}}:user`, 'pointed'), '1', 'and the record says so')
  t.strictSame(await store.getUser(user.id), user)

  // A failure right after the script, before the pointer: no pointer, no mark. The next login repairs both.
  await client.del(`${prefix}uid:{${user.id}}`)
  await client.hdel(`${prefix}m:{${mobile}}:user`, 'pointed')
  t.equal(await store.getUser(user.id), null, 'lost pointer: the id finds nothing')
  const again = await store.getOrCreateUserByMobile(mobile, { id: randomUUID(), mobile, createdAt: Date.now() })
  t.equal(again.created, false)
  t.equal(again.user.id, user.id, 'the same account')
  t.strictSame(await store.getUser(user.id), user, 'repaired by the next login')

  // Once marked, a login sends only the script: the pointer key is not written again.
  await client.set(`${prefix}uid:{${user.id}}`, 'sentinel-value')
  await store.getOrCreateUserByMobile(mobile, { id: randomUUID(), mobile, createdAt: Date.now() })
  t.equal(await client.get(`${prefix}uid:{${user.id}}`), 'sentinel-value', 'not rewritten')
})

t.test('events: one script writes the global and the user\'s log and trims the user\'s (one Redis)', async (t) => {
  const client = await newClient(t, server.url)
  const prefix = `t:${randomUUID()}:`
  const { createRedisEvents } = await import('../../src/store/events/redis.js')
  const events = createRedisEvents(client, { prefix, maxEventsPerUser: 3 })
  const userId = randomUUID()
  for (let i = 0; i < 5; i++) await events.recordEvent({ type: 'login', at: 1_000 + i, userId })
  await events.recordEvent({ type: 'client_deleted', at: 2_000, clientId: 'c' })
  t.equal(await client.zcard(`${prefix}events`), 6, 'every event in the global log')
  t.equal(await client.zcard(`${prefix}u:{${userId}}:events`), 3, 'the user\'s log trimmed to its bound')
  const page = await events.queryEvents({ userId, limit: 10 })
  t.strictSame(page.events.map((e) => e.at), [1_004, 1_003, 1_002], 'the newest three, newest first')
})
