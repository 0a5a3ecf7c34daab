import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { createPostgresSessions, type PostgresSessions } from '../../src/store/sessions/postgres.js'
import { createPostgres, type Postgres } from '../../src/store/postgres/pool.js'
import { sessionsContract } from './sessions.contract.js'
import { newSession, pollUntil } from './contract-helpers.js'
import { startMigratedPostgres } from './pg-template.js'

const pg = await startMigratedPostgres([4])
t.teardown(() => pg.close())

await sessionsContract(t, 'postgres', async () => {
  const { db } = await pg.fresh()
  const sessions = createPostgresSessions(db)
  return { sessions, teardown: async () => { await sessions.closeSessions(); await db.close() } }
})

/** Two stores on one fresh database, each on its own pool: two replicas. */
async function twoStores (t: Test): Promise<{ a: PostgresSessions, b: PostgresSessions, dbA: Postgres }> {
  const { url, db: dbA } = await pg.fresh()
  const dbB = createPostgres(url)
  const a = createPostgresSessions(dbA)
  const b = createPostgresSessions(dbB)
  t.teardown(async () => { await a.closeSessions(); await b.closeSessions(); await dbB.close() })
  return { a, b, dbA }
}

t.test('a revocation at store A reaches a subscriber on store B (another pool, same database) through LISTEN/NOTIFY, with its cursor', async (t) => {
  const { a, b } = await twoStores(t)
  const heard: Array<[string, string]> = []
  t.teardown(b.subscribeRevocations((m, c) => { heard.push([m, c]) }))
  const snapshot = await b.denylist()
  const now = Date.now()
  const s = newSession(randomUUID(), now)
  await a.createSession(s)
  await a.revokeSession(s.id, 'logout', now)
  await pollUntil(async () => heard.length === 1)
  const logged = await b.revocationsAfter(snapshot.cursor, 10)
  t.equal(logged?.length, 1)
  t.strictSame(heard, [[logged![0]!.message, logged![0]!.cursor]], 'the message and cursor the log holds')
  t.equal(heard[0]![0], `s:${s.id}=${now}:${now + 125_000}`)
})

t.test('64 concurrent rotations of one gen on PostgreSQL, across two pools: exactly one rotated', async (t) => {
  const { a, b } = await twoStores(t)
  const now = Date.now()
  const s = newSession(randomUUID(), now)
  await a.createSession(s)
  const results = await Promise.all(Array.from({ length: 64 }, async (_v, i) =>
    await (i % 2 === 0 ? a : b).rotateRefresh({ sessionId: s.id, presentedGen: 1, now, graceMs: 10_000, newExpiresAt: now + 60_000 })))
  t.equal(results.filter((r) => r.status === 'rotated').length, 1)
  t.equal(results.filter((r) => r.status === 'grace').length, 63)
  t.equal((await b.getSession(s.id))?.refreshGen, 2)
})

t.test('the feed log is trimmed past feedLogMax: an old cursor is null, a recent one resumes', async (t) => {
  const { db } = await pg.fresh()
  const sessions = createPostgresSessions(db, { feedLogMax: 10 })
  t.teardown(async () => { await sessions.closeSessions() })
  const first = await sessions.denylist()
  const now = Date.now()
  for (let i = 0; i < 25; i++) await sessions.revokeUserSessions(`trim-${i}`, 'admin', now)
  t.equal(await sessions.revocationsAfter(first.cursor, 100), null, 'trimmed past the first cursor: reload')
  const recent = await sessions.denylist()
  await sessions.revokeUserSessions('trim-last', 'admin', now)
  const after = await sessions.revocationsAfter(recent.cursor, 100)
  t.strictSame(after?.map((e) => e.message), [`u:trim-last=${now}:${now + 125_000}`])
})

t.test('the subscriber survives a PostgreSQL restart and delivers what was logged while it was away', async (t) => {
  const { a, b } = await twoStores(t)
  const heard: Array<[string, string]> = []
  t.teardown(b.subscribeRevocations((m, c) => { heard.push([m, c]) }))
  const snapshot = await b.denylist()
  const now = Date.now()
  const ids = ['before', 'while', 'after'].map((n) => `${n}-${randomUUID()}`)
  for (const id of ids) await a.createSession(newSession('restart-user', now, { id }))
  await a.revokeSession(ids[0]!, 'logout', now)
  await pollUntil(async () => heard.length === 1)

  await pg.server.stop()
  await t.rejects(a.revokeSession(ids[1]!, 'logout', now), { code: 'STORE_UNAVAILABLE' }, 'down: the store says so')
  await pg.server.start()
  // The first statements after the restart may meet a pool connection the restart closed.
  await pollUntil(async () => await a.revokeSession(ids[1]!, 'logout', now).then(() => true, () => false), 10_000)
  await a.revokeSession(ids[2]!, 'logout', now)
  await pollUntil(async () => heard.length === 3, 10_000)
  const logged = await b.revocationsAfter(snapshot.cursor, 10)
  t.strictSame(heard, logged!.map((e) => [e.message, e.cursor]), 'each once, in log order, with its cursor')
  t.strictSame(heard.map(([m]) => m.slice(0, m.indexOf('='))), ids.map((id) => `s:${id}`))
})

t.test('a revocation made while the subscriber\'s connection is cut comes from the log when it is back', async (t) => {
  const { a, b, dbA } = await twoStores(t)
  const heard: string[] = []
  t.teardown(b.subscribeRevocations((m) => { heard.push(m) }))
  await b.denylist()
  const now = Date.now()
  const id = `gap-${randomUUID()}`
  await a.createSession(newSession('gap-user', now, { id }))
  // Cut B's LISTEN connection, then revoke at once: B waits 200 ms before it connects again,
  // so the notification goes out while nothing of B listens and only the catch-up from the
  // log can deliver it (on a machine too loaded to revoke within 200 ms, NOTIFY delivers it).
  await dbA.transaction(async (tx) => {
    const { rows } = await tx.query(
      "SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE application_name = 'authcenter-revocations' AND datname = current_database()")
    t.strictSame(rows.map((r) => r.cut), [true], 'one listening connection, cut')
  })
  await a.revokeSession(id, 'logout', now)
  await pollUntil(async () => heard.length === 1, 10_000)
  t.strictSame(heard, [`s:${id}=${now}:${now + 125_000}`])
})
