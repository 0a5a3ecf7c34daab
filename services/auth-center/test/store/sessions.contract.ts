import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import type { Session, SessionStore } from '../../src/store/store.js'
import { DEFAULT_DENY_TTL_MS } from '../../src/store/denylist.js'
import { newSession, pollUntil, until } from './contract-helpers.js'

export interface SessionsFixture {
  sessions: SessionStore
  teardown (): Promise<void>
}

/**
 * The behaviour every SessionStore driver must have: sessions, refresh rotation with reuse
 * detection, and the revocation feed (denylist, epoch, log, subscribers), run once per driver.
 * Each subtest gets a fresh store from `make`. Decisions on tokens use the `now` the test passes;
 * feed deliveries are polled for (a networked driver delivers them asynchronously).
 */
export async function sessionsContract (t: Test, name: string, make: () => Promise<SessionsFixture>): Promise<void> {
  await t.test(`${name} sessions contract`, async (t) => {
    async function fresh (t: Test): Promise<SessionStore> {
      const { sessions, teardown } = await make()
      t.teardown(teardown)
      return sessions
    }

    t.test('sessions', async (t) => {
      t.test('createSession/getSession round-trip every field, numbers as numbers', async (t) => {
        const sessions = await fresh(t)
        const now = Date.now()
        const full = newSession(randomUUID(), now, {
          deviceName: 'Pixel 8', ip: '203.0.113.7', userAgent: 'okhttp/4', revokedAt: now + 1, revokedReason: 'test'
        })
        await sessions.createSession(full)
        t.strictSame(await sessions.getSession(full.id), full)

        const minimal = newSession(randomUUID(), now)
        await sessions.createSession(minimal)
        const got = await sessions.getSession(minimal.id)
        t.strictSame(got, minimal)
        t.strictSame(Object.keys(got ?? {}).sort(), Object.keys(minimal).sort(), 'absent optional fields stay absent')
        t.equal(await sessions.getSession(randomUUID()), null)
      })

      t.test('a session keeps its kind (first-party, third-party, client) and an empty scope, through rotation and revocation', async (t) => {
        const sessions = await fresh(t)
        const now = Date.now()
        const kinds = [
          newSession(randomUUID(), now, { kind: 'first-party' }),
          newSession(randomUUID(), now, { kind: 'third-party', clientId: 'partner', scope: '' }),
          newSession('client:partner', now, { kind: 'client', clientId: 'partner', scope: 'reports' })
        ]
        for (const s of kinds) await sessions.createSession(s)
        for (const s of kinds) t.strictSame(await sessions.getSession(s.id), s, s.kind!)
        const rotated = await sessions.rotateRefresh({ sessionId: kinds[1]!.id, presentedGen: 1, now, graceMs: 10_000, newExpiresAt: now + 60_000 })
        t.equal(rotated.status, 'rotated')
        t.equal(rotated.session?.kind, 'third-party', 'the rotation step returns it')
        t.equal(rotated.session?.scope, '', 'an empty scope stays an empty scope, not an absent one')
        t.equal((await sessions.revokeSession(kinds[1]!.id, 'logout', now))?.kind, 'third-party')
        t.equal((await sessions.getSession(kinds[1]!.id))?.kind, 'third-party', 'still after the revocation')
      })

      t.test('listUserSessions: live ones only, oldest first, only this user\'s', async (t) => {
        const sessions = await fresh(t)
        const now = Date.now()
        const userId = randomUUID()
        const newer = newSession(userId, now - 1_000)
        const older = newSession(userId, now - 5_000)
        const revoked = newSession(userId, now - 3_000)
        const expired = newSession(userId, now - 4_000, { expiresAt: now - 1 })
        const other = newSession(randomUUID(), now - 2_000)
        for (const s of [newer, older, revoked, expired, other]) await sessions.createSession(s)
        await sessions.revokeSession(revoked.id, 'logout', now)

        t.strictSame((await sessions.listUserSessions(userId, now)).map((s) => s.id), [older.id, newer.id])
        t.strictSame(await sessions.listUserSessions(randomUUID(), now), [])
        t.strictSame((await sessions.listUserSessions(userId, now)).map((s) => s.id), [older.id, newer.id], 'stable on a second read')
        t.notOk(await sessions.getSession(expired.id) === null, 'an expired session is still readable until its retention ends')
      })

      t.test('revokeSession marks the session, keeps the first revocation, and is null when missing', async (t) => {
        const sessions = await fresh(t)
        const now = Date.now()
        const s = newSession(randomUUID(), now)
        await sessions.createSession(s)
        const revoked = await sessions.revokeSession(s.id, 'logout', now + 10)
        t.equal(revoked?.revokedAt, now + 10)
        t.equal(revoked?.revokedReason, 'logout')
        const again = await sessions.revokeSession(s.id, 'admin', now + 20)
        t.strictSame(again, revoked, 'idempotent: the first revocation stands')
        t.strictSame(await sessions.getSession(s.id), revoked)
        t.equal(await sessions.revokeSession(randomUUID(), 'logout', now), null)
      })

      t.test('revokeUserSessions revokes every live session but the exception and returns their ids', async (t) => {
        const sessions = await fresh(t)
        const now = Date.now()
        const userId = randomUUID()
        const keep = newSession(userId, now - 4_000)
        const a = newSession(userId, now - 3_000)
        const b = newSession(userId, now - 2_000)
        const alreadyRevoked = newSession(userId, now - 1_000)
        const expired = newSession(userId, now - 5_000, { expiresAt: now - 1 })
        const otherUsers = newSession(randomUUID(), now)
        for (const s of [keep, a, b, alreadyRevoked, expired, otherUsers]) await sessions.createSession(s)
        await sessions.revokeSession(alreadyRevoked.id, 'logout', now)

        const ids = await sessions.revokeUserSessions(userId, 'password_changed', now + 1, keep.id)
        t.strictSame([...ids].sort(), [a.id, b.id].sort())
        t.equal((await sessions.getSession(a.id))?.revokedReason, 'password_changed')
        t.equal((await sessions.getSession(a.id))?.revokedAt, now + 1)
        t.equal((await sessions.getSession(alreadyRevoked.id))?.revokedReason, 'logout', 'an earlier revocation stands')
        t.equal((await sessions.getSession(keep.id))?.revokedAt, undefined)
        t.equal((await sessions.getSession(otherUsers.id))?.revokedAt, undefined, 'other users are untouched')
        t.strictSame((await sessions.listUserSessions(userId, now + 1)).map((s) => s.id), [keep.id])

        t.strictSame(await sessions.revokeUserSessions(userId, 'password_changed', now + 2, keep.id), [], 'nothing left but the exception')
        t.strictSame(await sessions.revokeUserSessions(userId, 'logout_all', now + 3), [keep.id], 'without an exception, all of them')
        t.strictSame(await sessions.listUserSessions(userId, now + 3), [])
        t.strictSame(await sessions.revokeUserSessions(randomUUID(), 'logout_all', now), [])
      })

      t.test('200 sessions for one user: listUserSessions stays exact as they pile up and die', async (t) => {
        const sessions = await fresh(t)
        const now = Date.now()
        const userId = randomUUID()
        const ids: string[] = []
        for (let i = 0; i < 200; i++) {
          const s = newSession(userId, now - 200_000 + i * 1_000)
          await sessions.createSession(s)
          ids.push(s.id)
          // Every 10th stays live; the other even ones are logged out at once, the odd ones at the end.
          if (i % 10 !== 0 && i % 2 === 0) await sessions.revokeSession(s.id, 'logout', now)
          if (i === 99) {
            t.strictSame((await sessions.listUserSessions(userId, now)).map((x) => x.id), ids.filter((_id, j) => j % 10 === 0 || j % 2 === 1),
              'after 100 logins: every session not logged out, oldest first')
          }
        }
        for (let i = 1; i < 200; i += 2) await sessions.revokeSession(ids[i]!, 'logout', now)
        const live = ids.filter((_id, i) => i % 10 === 0).map((id) => ({ id }))
        t.strictSame((await sessions.listUserSessions(userId, now)).map((x) => x.id), live.map((x) => x.id), 'the 20 live ones, oldest first')
        t.strictSame((await sessions.listUserSessions(userId, now)).map((x) => x.id), live.map((x) => x.id), 'stable on a second read')
        t.strictSame((await sessions.revokeUserSessions(userId, 'logout_all', now + 1)).sort(), live.map((x) => x.id).sort(), 'logout-all finds every live one')
        t.strictSame(await sessions.listUserSessions(userId, now + 1), [])
      })
    })

    t.test('refresh rotation', async (t) => {
      const graceMs = 10_000
      const lifetime = 30 * 24 * 3600_000

      async function withSession (t: Test, now: number, over: Partial<Session> = {}): Promise<{ sessions: SessionStore, s: Session }> {
        const sessions = await fresh(t)
        const s = newSession(randomUUID(), now, over)
        await sessions.createSession(s)
        return { sessions, s }
      }

      t.test('the current gen rotates: gen+1, rotatedAt, lastUsedAt and expiresAt move', async (t) => {
        const now = Date.now()
        const { sessions, s } = await withSession(t, now)
        const r = await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + 5, graceMs, newExpiresAt: now + 5 + lifetime })
        t.equal(r.status, 'rotated')
        t.strictSame(r.session, { ...s, refreshGen: s.refreshGen + 1, rotatedAt: now + 5, lastUsedAt: now + 5, expiresAt: now + 5 + lifetime })
        t.strictSame(await sessions.getSession(s.id), r.session, 'stored as returned')

        const r2 = await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen + 1, now: now + 10, graceMs, newExpiresAt: now + 10 + lifetime })
        t.equal(r2.status, 'rotated')
        t.equal(r2.session?.refreshGen, s.refreshGen + 2)
      })

      t.test('the previous gen within the grace window is grace and changes nothing', async (t) => {
        const now = Date.now()
        const { sessions, s } = await withSession(t, now)
        const rotated = await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now, graceMs, newExpiresAt: now + lifetime })
        const r = await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + graceMs - 1, graceMs, newExpiresAt: now + 2 * lifetime })
        t.equal(r.status, 'grace')
        t.strictSame(r.session, rotated.session)
        t.strictSame(await sessions.getSession(s.id), rotated.session)
      })

      t.test('the previous gen after the grace window is reuse and revokes the session', async (t) => {
        const now = Date.now()
        const { sessions, s } = await withSession(t, now)
        await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now, graceMs, newExpiresAt: now + lifetime })
        const r = await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + graceMs, graceMs, newExpiresAt: now + 2 * lifetime })
        t.equal(r.status, 'reused', 'the window is [rotatedAt, rotatedAt + graceMs)')
        t.equal(r.session?.revokedAt, now + graceMs)
        t.equal(r.session?.revokedReason, 'refresh_token_reused')
        t.equal(r.session?.refreshGen, s.refreshGen + 1, 'no rotation happened')
        t.strictSame(await sessions.getSession(s.id), r.session)
        t.strictSame(await sessions.listUserSessions(s.userId, now + graceMs), [])

        const current = await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen + 1, now: now + graceMs + 1, graceMs, newExpiresAt: now + 2 * lifetime })
        t.equal(current.status, 'revoked', 'even the current token is dead now')
      })

      // A gen presented after `rotations` rotations (each 1 ms after the last, all within the
      // grace window), `presented` away from the stored gen: only the gen just before it is grace.
      for (const { name, over, rotations, presented, status, revokedReason } of [
        { name: 'a gen older than the previous one is reuse, even within the grace window', rotations: 2, presented: -2, status: 'reused', revokedReason: 'refresh_token_reused' },
        { name: 'before the first rotation there is no previous gen: gen-1 is reuse', over: { refreshGen: 3 }, rotations: 0, presented: -1, status: 'reused', revokedReason: 'refresh_token_reused' },
        { name: 'a gen newer than the current one (the store lost the rotation that issued it: a Redis failover, a restore) rotates, never counts as reuse', rotations: 0, presented: 1, status: 'rotated', revokedReason: undefined }
      ]) {
        t.test(name, async (t) => {
          const now = Date.now()
          const { sessions, s } = await withSession(t, now, over)
          for (let i = 0; i < rotations; i++) await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen + i, now: now + i, graceMs, newExpiresAt: now + lifetime })
          const r = await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen + rotations + presented, now: now + rotations, graceMs, newExpiresAt: now + lifetime })
          t.equal(r.status, status)
          t.equal(r.session?.revokedReason, revokedReason, revokedReason === undefined ? 'not revoked' : 'revoked as reuse')
        })
      }

      t.test('past expiresAt it is expired and the session is left as is', async (t) => {
        const now = Date.now()
        const { sessions, s } = await withSession(t, now, { expiresAt: now + 1_000 })
        const r = await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + 1_000, graceMs, newExpiresAt: now + lifetime })
        t.equal(r.status, 'expired')
        t.strictSame(r.session, s)
        t.strictSame(await sessions.getSession(s.id), s)
      })

      t.test('an already revoked session answers revoked and stays as it was', async (t) => {
        const now = Date.now()
        const { sessions, s } = await withSession(t, now)
        const revoked = await sessions.revokeSession(s.id, 'logout', now)
        const r = await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + 1, graceMs, newExpiresAt: now + lifetime })
        t.equal(r.status, 'revoked')
        t.strictSame(r.session, revoked)
      })

      t.test('expectedNonce: a different nonce is stale and changes nothing; the right one rotates', async (t) => {
        const now = Date.now()
        const { sessions, s } = await withSession(t, now)
        t.strictSame(await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now, graceMs, newExpiresAt: now + lifetime, expectedNonce: 'not-' + s.refreshNonce }),
          { status: 'stale' })
        t.strictSame(await sessions.getSession(s.id), s, 'untouched')
        t.strictSame(await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen + 5, now, graceMs, newExpiresAt: now + lifetime, expectedNonce: 'x' }),
          { status: 'stale' }, 'checked before reuse detection: a stale guess never revokes')
        t.equal((await sessions.getSession(s.id))?.revokedAt, undefined)
        const r = await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now, graceMs, newExpiresAt: now + lifetime, expectedNonce: s.refreshNonce })
        t.equal(r.status, 'rotated')
        t.equal(r.session?.refreshGen, s.refreshGen + 1)
        t.strictSame(await sessions.rotateRefresh({ sessionId: randomUUID(), presentedGen: 1, now, graceMs, newExpiresAt: now + lifetime, expectedNonce: 'x' }),
          { status: 'missing' })
      })

      t.test('an unknown session is missing', async (t) => {
        const sessions = await fresh(t)
        const now = Date.now()
        t.strictSame(await sessions.rotateRefresh({ sessionId: randomUUID(), presentedGen: 1, now, graceMs, newExpiresAt: now + lifetime }), { status: 'missing' })
      })

      t.test('50 concurrent rotations of one gen: exactly one rotated, the rest grace', async (t) => {
        const now = Date.now()
        const { sessions, s } = await withSession(t, now)
        const results = await Promise.all(Array.from({ length: 50 }, async (_v, i) =>
          await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + i, graceMs, newExpiresAt: now + i + lifetime })))
        t.equal(results.filter((r) => r.status === 'rotated').length, 1)
        t.equal(results.filter((r) => r.status === 'grace').length, 49)
        const after = await sessions.getSession(s.id)
        t.equal(after?.refreshGen, s.refreshGen + 1)
        t.equal(after?.revokedAt, undefined)
        for (const r of results) t.equal(r.session?.refreshGen, s.refreshGen + 1)
      })
    })

    t.test('revocation feed', async (t) => {
      const TTL = DEFAULT_DENY_TTL_MS

      /** A listener that collects messages; `subscribe then load`, as a verifier does. */
      async function listen (t: Test, sessions: SessionStore): Promise<{ messages: string[], stop: () => void }> {
        const messages: string[] = []
        const stop = sessions.subscribeRevocations((m) => { messages.push(m) })
        t.teardown(stop)
        await sessions.denylist()
        return { messages, stop }
      }

      async function entries (sessions: SessionStore): Promise<Map<string, string>> {
        const { entries } = await sessions.denylist()
        return new Map(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
      }

      t.test('the feed log: a snapshot cursor resumes with exactly the later entries, in order; a foreign or malformed cursor cannot', async (t) => {
        const sessions = await fresh(t)
        const live: Array<[string, string]> = []
        t.teardown(sessions.subscribeRevocations((m, c) => { live.push([m, c]) }))
        const snapshot = await sessions.denylist()
        t.same(await sessions.revocationsAfter(snapshot.cursor, 10), [], 'nothing logged after the snapshot yet')
        const now = Date.now()
        for (const id of ['a', 'b', 'c']) {
          await sessions.createSession(newSession('feed-user', now, { id: `feed-${id}` }))
          await sessions.revokeSession(`feed-${id}`, 'logout', now)
        }
        await sessions.revokeUserSessions('feed-user-2', 'admin', now)
        const after = await sessions.revocationsAfter(snapshot.cursor, 10)
        t.equal(after?.length, 4, 'exactly the four revocations')
        t.same(after?.map((e) => e.message.slice(0, e.message.indexOf('='))), ['s:feed-a', 's:feed-b', 's:feed-c', 'u:feed-user-2'])
        await pollUntil(async () => live.length === 4)
        t.same(live, after!.map((e) => [e.message, e.cursor]), 'subscribers got the same entries with the same cursors')
        t.same(await sessions.revocationsAfter(after![1]!.cursor, 10), after!.slice(2), 'resuming from the second gives the last two')
        t.same(await sessions.revocationsAfter(snapshot.cursor, 1), after!.slice(0, 1), 'limit')
        t.same(await sessions.revocationsAfter(after![3]!.cursor, 10), [], 'nothing after the last')
        const foreign = `0123456789abcdef.${after![0]!.cursor.split('.')[1]!}`
        t.equal(await sessions.revocationsAfter(foreign, 10), null, 'another epoch: reload')
        t.equal(await sessions.revocationsAfter('not-a-cursor', 10), null, 'malformed: reload')
      })

      t.test('the epoch is "<createdAtMs>:<random>", made once, at millisecond resolution', async (t) => {
        const sessions = await fresh(t)
        const now = Math.floor(Date.now() / 1000) * 1000 + 737
        const epoch = await sessions.ensureEpoch(now)
        t.match(epoch, /^\d+:[0-9a-f]{16}$/)
        t.equal(Number(epoch.split(':')[0]), now, 'the very millisecond, not floored to the second')
        t.equal(await sessions.ensureEpoch(now + 10_000), epoch, 'SET NX: the first one stays')
        t.equal((await sessions.denylist()).epoch, epoch)
      })

      t.test('revokeSession writes s:<sid> = revokedAt:expiresAt and publishes it, only when it revokes', async (t) => {
        const sessions = await fresh(t)
        const { messages } = await listen(t, sessions)
        const now = Date.now()
        const s = newSession(randomUUID(), now)
        await sessions.createSession(s)
        await sessions.revokeSession(s.id, 'kicked', now + 1)
        const value = `${now + 1}:${now + 1 + TTL}`
        await until(() => messages.length >= 1)
        t.strictSame(messages, [`s:${s.id}=${value}`], 'one message, the same text as the hash')
        t.equal((await entries(sessions)).get(`s:${s.id}`), value)

        await sessions.revokeSession(s.id, 'admin', now + 50)
        await sessions.revokeSession(randomUUID(), 'admin', now + 50)
        await sleep(100)
        t.equal(messages.length, 1, 'an already revoked or unknown session writes nothing')
        t.equal((await entries(sessions)).get(`s:${s.id}`), value, 'the first entry stands')
      })

      t.test('refresh-token reuse writes and publishes s:<sid> in the rotation step', async (t) => {
        const sessions = await fresh(t)
        const { messages } = await listen(t, sessions)
        const now = Date.now()
        const s = newSession(randomUUID(), now)
        await sessions.createSession(s)
        await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now, graceMs: 0, newExpiresAt: now + 60_000 })
        t.equal((await entries(sessions)).size, 0, 'a rotation writes nothing')
        const r = await sessions.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + 7, graceMs: 0, newExpiresAt: now + 60_000 })
        t.equal(r.status, 'reused')
        await until(() => messages.length >= 1)
        t.strictSame(messages, [`s:${s.id}=${now + 7}:${now + 7 + TTL}`])
        t.equal((await entries(sessions)).get(`s:${s.id}`), `${now + 7}:${now + 7 + TTL}`)
      })

      t.test('revokeUserSessions writes ONE u:<userId> entry, with exceptSid when one session survives', async (t) => {
        const sessions = await fresh(t)
        const { messages } = await listen(t, sessions)
        const now = Date.now()
        const userId = randomUUID()
        const keep = newSession(userId, now - 2)
        const a = newSession(userId, now - 1)
        for (const s of [keep, a]) await sessions.createSession(s)

        await sessions.revokeUserSessions(userId, 'password_changed', now, keep.id)
        await until(() => messages.length >= 1)
        const withExcept = `${now}:${now + TTL}:${keep.id}`
        t.strictSame(messages, [`u:${userId}=${withExcept}`], 'one message for the user, none per session')
        const map = await entries(sessions)
        t.equal(map.get(`u:${userId}`), withExcept)
        t.notOk(map.has(`s:${a.id}`), 'no session entries: the user entry covers them')

        // A later user-level revocation without exception: later time, no exceptSid.
        await sessions.revokeUserSessions(userId, 'admin', now + 100)
        await until(() => messages.length >= 2)
        t.equal(messages[1], `u:${userId}=${now + 100}:${now + 100 + TTL}`)
        // An earlier clock (another replica) never moves the entry back.
        await sessions.revokeUserSessions(userId, 'logout_others', now + 50, keep.id)
        await until(() => messages.length >= 3)
        t.equal((await entries(sessions)).get(`u:${userId}`), `${now + 100}:${now + 100 + TTL}:${keep.id}`)
        t.equal(messages[2], `u:${userId}=${now + 100}:${now + 100 + TTL}:${keep.id}`, 'the message carries the stored value')
      })

      t.test('a user with no live session still gets the user entry (tokens the store no longer knows)', async (t) => {
        const sessions = await fresh(t)
        const userId = randomUUID()
        const now = Date.now()
        t.strictSame(await sessions.revokeUserSessions(userId, 'admin', now), [])
        t.equal((await entries(sessions)).get(`u:${userId}`), `${now}:${now + TTL}`)
      })

      t.test('revokeUnstoredSession writes and publishes s:<id> for a grant with no stored session, once', async (t) => {
        const sessions = await fresh(t)
        const { messages } = await listen(t, sessions)
        const now = Date.now()
        const id = randomUUID()
        t.equal(await sessions.revokeUnstoredSession(id, now), true, 'written')
        const value = `${now}:${now + TTL}`
        await until(() => messages.length >= 1)
        t.strictSame(messages, [`s:${id}=${value}`], 'one message, the same text as the hash')
        t.equal((await entries(sessions)).get(`s:${id}`), value)
        t.equal(await sessions.getSession(id), null, 'no session is made')
        const head = await sessions.denylist()

        t.equal(await sessions.revokeUnstoredSession(id, now + 50), false, 'a second revocation writes nothing')
        const s = newSession(randomUUID(), now)
        await sessions.createSession(s)
        await sessions.revokeSession(s.id, 'logout', now)
        t.equal(await sessions.revokeUnstoredSession(s.id, now + 60), false, 'nor over a stored session\'s entry')
        await sleep(100)
        t.equal(messages.length, 2, 'the first entry and the stored session\'s, nothing else')
        t.equal((await entries(sessions)).get(`s:${id}`), value, 'the first entry stands')
        t.same((await sessions.revocationsAfter(head.cursor, 10))?.map((e) => e.message), [`s:${s.id}=${value}`], 'logged once each')
      })

      t.test('denyEntriesOf reads s:<sid>, u:<userId> and the epoch in one step, and creates nothing', async (t) => {
        const sessions = await fresh(t)
        const now = Date.now()
        const [sid, other, user] = [randomUUID(), randomUUID(), `client:${randomUUID()}`]
        t.strictSame(await sessions.denyEntriesOf(sid, user), {}, 'a fresh store: no entries, no epoch')
        t.strictSame(await sessions.denyEntriesOf(sid, user), {}, 'and reading did not make the epoch')
        const epoch = await sessions.ensureEpoch(now)
        t.strictSame(await sessions.denyEntriesOf(sid, user), { epoch })
        await sessions.revokeUnstoredSession(sid, now)
        await sessions.revokeUserSessions(user, 'admin', now + 1, other)
        t.strictSame(await sessions.denyEntriesOf(sid, user), { epoch, session: `${now}:${now + TTL}`, user: `${now + 1}:${now + 1 + TTL}:${other}` })
        t.strictSame(await sessions.denyEntriesOf(other, 'nobody'), { epoch }, 'another sid and subject: only the epoch')
      })

      t.test('pruneDenylist drops entries whose expiresAt has passed, and only those', async (t) => {
        const sessions = await fresh(t)
        const now = Date.now()
        const old = newSession(randomUUID(), now - TTL - 10)
        const recent = newSession(randomUUID(), now)
        for (const s of [old, recent]) await sessions.createSession(s)
        await sessions.revokeSession(old.id, 'logout', now - TTL - 10)
        await sessions.revokeSession(recent.id, 'logout', now)
        const oldUser = randomUUID()
        await sessions.revokeUserSessions(oldUser, 'admin', now - TTL)

        t.equal(await sessions.pruneDenylist(now - TTL - 11), 0, 'nothing expired yet')
        t.equal(await sessions.pruneDenylist(now), 2, 'expiresAt <= now: both old entries')
        t.strictSame([...(await entries(sessions)).keys()], [`s:${recent.id}`])
        t.equal(await sessions.pruneDenylist(now), 0)
      })

      t.test('unsubscribe stops delivery; a throwing listener breaks nothing', async (t) => {
        const sessions = await fresh(t)
        const bad = sessions.subscribeRevocations(() => { throw new Error('listener bug') })
        t.teardown(bad)
        const { messages, stop } = await listen(t, sessions)
        const now = Date.now()
        const a = newSession(randomUUID(), now)
        const b = newSession(randomUUID(), now)
        for (const s of [a, b]) await sessions.createSession(s)
        t.equal((await sessions.revokeSession(a.id, 'logout', now))?.revokedAt, now, 'the revocation is saved')
        await until(() => messages.length >= 1)
        stop()
        await sessions.revokeSession(b.id, 'logout', now)
        await sleep(100)
        t.equal(messages.length, 1, 'nothing after unsubscribe')
        t.ok((await entries(sessions)).has(`s:${b.id}`), 'still written')
      })
    })

    t.test('sessions keep their binding (jkt, fgpHash)', async (t) => {
      const sessions = await fresh(t)
      const s = newSession(randomUUID(), Date.now(), { jkt: 'thumbprint', fgpHash: 'hash' })
      await sessions.createSession(s)
      t.strictSame(await sessions.getSession(s.id), s)
    })
  })
}
