import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import type { Session, Store, User } from '../../src/store/index.js'
import { DEFAULT_DENY_TTL_MS } from '../../src/store/denylist.js'

export interface StoreFixture {
  store: Store
  teardown (): Promise<void>
}

/**
 * The behaviour every Store driver must have, run once per driver. Each subtest gets
 * a fresh store from `makeStore`. Timing-based cases use real sleeps with wide
 * margins: the Redis driver's TTLs run on the server's clock, which no fake clock
 * reaches. Decisions on tokens use the `now` the test passes.
 */
export async function storeContract (t: Test, name: string, makeStore: () => Promise<StoreFixture>): Promise<void> {
  await t.test(`${name} store contract`, async (t) => {
    async function fresh (t: Test): Promise<Store> {
      const { store, teardown } = await makeStore()
      t.teardown(teardown)
      return store
    }

    t.test('users', async (t) => {
      t.test('getOrCreateUserByMobile creates once, then finds the same user by id and by mobile', async (t) => {
        const store = await fresh(t)
        const mobile = newMobile()
        const first = await store.getOrCreateUserByMobile(mobile, newUser(mobile))
        t.equal(first.created, true)
        t.notOk('passwordHash' in first.user, 'an absent optional field stays absent')
        t.notOk('passwordChangedAt' in first.user)

        const second = await store.getOrCreateUserByMobile(mobile, newUser(mobile))
        t.equal(second.created, false)
        t.strictSame(second.user, first.user, 'the second candidate is ignored')
        t.strictSame(await store.getUser(first.user.id), first.user)
        t.strictSame(await store.getUserByMobile(mobile), first.user)
        t.equal(typeof first.user.createdAt, 'number')
      })

      t.test('unknown ids and mobiles give null', async (t) => {
        const store = await fresh(t)
        t.equal(await store.getUser(randomUUID()), null)
        t.equal(await store.getUserByMobile(newMobile()), null)
      })

      t.test('50 concurrent first logins for one mobile make exactly one user', async (t) => {
        const store = await fresh(t)
        const mobile = newMobile()
        const results = await Promise.all(Array.from({ length: 50 }, async () =>
          await store.getOrCreateUserByMobile(mobile, newUser(mobile))))
        t.equal(results.filter((r) => r.created).length, 1, 'exactly one created:true')
        t.equal(new Set(results.map((r) => r.user.id)).size, 1, 'everyone got the same user')
        t.equal((await store.getUserByMobile(mobile))?.id, results[0]?.user.id)
      })

      t.test('a candidate for another mobile is a TypeError', async (t) => {
        const store = await fresh(t)
        await t.rejects(store.getOrCreateUserByMobile(newMobile(), newUser(newMobile())), TypeError)
      })

      t.test('setPassword stores the hash and when it changed; an unknown user is left alone', async (t) => {
        const store = await fresh(t)
        const mobile = newMobile()
        const { user } = await store.getOrCreateUserByMobile(mobile, newUser(mobile))
        const now = Date.now()
        await store.setPassword(user.id, '$scrypt$hash', now)
        const after = await store.getUser(user.id)
        t.equal(after?.passwordHash, '$scrypt$hash')
        t.equal(after?.passwordChangedAt, now)
        t.equal(after?.createdAt, user.createdAt)

        const ghost = randomUUID()
        await store.setPassword(ghost, '$scrypt$hash', now)
        t.equal(await store.getUser(ghost), null, 'no half user is created')
      })

      t.test('setPassword with an expected hash replaces only that hash (a change meanwhile wins)', async (t) => {
        const store = await fresh(t)
        const mobile = newMobile()
        const { user } = await store.getOrCreateUserByMobile(mobile, newUser(mobile))
        await store.setPassword(user.id, '$scrypt$old', 1_000)
        await store.setPassword(user.id, '$scrypt$changed', 2_000)
        await store.setPassword(user.id, '$scrypt$old-re-encoded', 1_000, '$scrypt$old')
        t.equal((await store.getUser(user.id))?.passwordHash, '$scrypt$changed', 'a stale compare-and-set writes nothing')
        await store.setPassword(user.id, '$scrypt$changed-re-encoded', 2_000, '$scrypt$changed')
        const after = await store.getUser(user.id)
        t.equal(after?.passwordHash, '$scrypt$changed-re-encoded')
        t.equal(after?.passwordChangedAt, 2_000)
      })
    })

    t.test('SMS codes', async (t) => {
      const opts = { ttlMs: 5_000, cooldownMs: 200, maxAttempts: 5 }

      t.test('issueSmsCode refuses during the cooldown, says how long, and issues again after it', async (t) => {
        const store = await fresh(t)
        const mobile = newMobile()
        t.strictSame(await store.issueSmsCode(mobile, 'h1', opts), { ok: true, retryAfterMs: 0 })
        const refused = await store.issueSmsCode(mobile, 'h2', opts)
        t.equal(refused.ok, false)
        t.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= opts.cooldownMs, `retryAfterMs ${refused.retryAfterMs}`)
        t.equal(await store.checkSmsCode(mobile, 'h1'), 'ok', 'a refused issue leaves the live code alone')

        await sleep(opts.cooldownMs + 100)
        t.equal((await store.issueSmsCode(mobile, 'h3', opts)).ok, true)
        t.equal(await store.checkSmsCode(mobile, 'h3'), 'ok')
      })

      t.test('cancelSmsCode drops the code and the cooldown', async (t) => {
        const store = await fresh(t)
        const mobile = newMobile()
        await store.issueSmsCode(mobile, 'h1', { ...opts, cooldownMs: 60_000 })
        await store.cancelSmsCode(mobile)
        t.equal(await store.checkSmsCode(mobile, 'h1'), 'missing', 'the code is gone')
        t.equal((await store.issueSmsCode(mobile, 'h2', opts)).ok, true, 'no cooldown left')
        await store.cancelSmsCode(newMobile())
        t.pass('cancelling a number without a code is harmless')
      })

      t.test('the right code is consumed exactly once', async (t) => {
        const store = await fresh(t)
        const mobile = newMobile()
        await store.issueSmsCode(mobile, 'right', opts)
        t.equal(await store.checkSmsCode(mobile, 'right'), 'ok')
        t.equal(await store.checkSmsCode(mobile, 'right'), 'missing')
      })

      t.test('a wrong try uses one attempt and the right code still works', async (t) => {
        const store = await fresh(t)
        const mobile = newMobile()
        await store.issueSmsCode(mobile, 'right', opts)
        t.equal(await store.checkSmsCode(mobile, 'wrong'), 'wrong')
        t.equal(await store.checkSmsCode(mobile, 'right'), 'ok')
      })

      t.test('the last of maxAttempts wrong tries kills the code', async (t) => {
        const store = await fresh(t)
        const mobile = newMobile()
        await store.issueSmsCode(mobile, 'right', opts)
        for (let i = 1; i < opts.maxAttempts; i++) t.equal(await store.checkSmsCode(mobile, 'wrong'), 'wrong', `try ${i}`)
        t.equal(await store.checkSmsCode(mobile, 'wrong'), 'dead')
        t.equal(await store.checkSmsCode(mobile, 'right'), 'missing', 'the right code is gone too')
      })

      t.test('concurrent wrong tries cannot exceed maxAttempts', async (t) => {
        const store = await fresh(t)
        const mobile = newMobile()
        await store.issueSmsCode(mobile, 'right', opts)
        const results = await Promise.all(Array.from({ length: 20 }, async () => await store.checkSmsCode(mobile, 'wrong')))
        t.equal(results.filter((r) => r === 'wrong').length, opts.maxAttempts - 1)
        t.equal(results.filter((r) => r === 'dead').length, 1)
        t.equal(results.filter((r) => r === 'missing').length, 20 - opts.maxAttempts)
      })

      t.test('concurrent checks of the right code: exactly one ok', async (t) => {
        const store = await fresh(t)
        const mobile = newMobile()
        await store.issueSmsCode(mobile, 'right', opts)
        const results = await Promise.all(Array.from({ length: 20 }, async () => await store.checkSmsCode(mobile, 'right')))
        t.equal(results.filter((r) => r === 'ok').length, 1)
        t.equal(results.filter((r) => r === 'missing').length, 19)
      })

      t.test('a code expires after ttlMs', async (t) => {
        const store = await fresh(t)
        const mobile = newMobile()
        await store.issueSmsCode(mobile, 'right', { ...opts, ttlMs: 150 })
        await sleep(300)
        t.equal(await store.checkSmsCode(mobile, 'right'), 'missing')
      })

      t.test('a new code replaces the live one, with fresh attempts', async (t) => {
        const store = await fresh(t)
        const mobile = newMobile()
        const noCooldown = { ...opts, cooldownMs: 0, maxAttempts: 2 }
        await store.issueSmsCode(mobile, 'first', noCooldown)
        t.equal(await store.checkSmsCode(mobile, 'wrong'), 'wrong')
        t.equal((await store.issueSmsCode(mobile, 'second', noCooldown)).ok, true, 'no cooldown when cooldownMs is 0')
        t.equal(await store.checkSmsCode(mobile, 'first'), 'wrong', 'the old code no longer matches')
        t.equal(await store.checkSmsCode(mobile, 'second'), 'ok')
      })

      t.test('nonsense options are a TypeError, not a store error', async (t) => {
        const store = await fresh(t)
        await t.rejects(store.issueSmsCode(newMobile(), 'h', { ...opts, ttlMs: 0 }), TypeError)
        await t.rejects(store.issueSmsCode(newMobile(), 'h', { ...opts, maxAttempts: 0 }), TypeError)
        await t.rejects(store.issueSmsCode(newMobile(), 'h', { ...opts, cooldownMs: -1 }), TypeError)
        await t.rejects(store.hit('k', 1, 0), TypeError)
      })

      t.test('an unknown number has no code', async (t) => {
        const store = await fresh(t)
        t.equal(await store.checkSmsCode(newMobile(), 'x'), 'missing')
      })
    })

    t.test('counters', async (t) => {
      t.test('hit counts within a fixed window and starts over after it', async (t) => {
        const store = await fresh(t)
        const key = `login:${randomUUID()}`
        const results = []
        for (let i = 0; i < 4; i++) results.push(await store.hit(key, 3, 200))
        t.strictSame(results.map((r) => [r.allowed, r.count]), [[true, 1], [true, 2], [true, 3], [false, 4]])
        for (const r of results) t.ok(r.retryAfterMs > 0 && r.retryAfterMs <= 200, `retryAfterMs ${r.retryAfterMs}`)

        await sleep(300)
        const next = await store.hit(key, 3, 200)
        t.strictSame([next.allowed, next.count], [true, 1], 'a new window')
      })

      t.test('resetHits clears one counter and leaves others', async (t) => {
        const store = await fresh(t)
        const a = `a:${randomUUID()}`
        const b = `b:${randomUUID()}`
        await store.hit(a, 1, 10_000)
        await store.hit(a, 1, 10_000)
        await store.hit(b, 1, 10_000)
        await store.resetHits(a)
        t.equal((await store.hit(a, 1, 10_000)).count, 1)
        t.equal((await store.hit(b, 1, 10_000)).count, 2)
        await store.resetHits(`unknown:${randomUUID()}`)
      })

      t.test('releaseHit gives back one hit, never below zero, and never starts a window', async (t) => {
        const store = await fresh(t)
        const key = `release:${randomUUID()}`
        await store.hit(key, 2, 10_000)
        await store.hit(key, 2, 10_000)
        t.equal(await store.countHits(key), 2)
        await store.releaseHit(key)
        t.equal(await store.countHits(key), 1)
        const again = await store.hit(key, 2, 10_000)
        t.strictSame([again.allowed, again.count], [true, 2], 'the given-back hit is free again')
        await store.releaseHit(key)
        await store.releaseHit(key)
        await store.releaseHit(key)
        t.equal(await store.countHits(key), 0, 'not below zero')
        const unknown = `none:${randomUUID()}`
        await store.releaseHit(unknown)
        t.equal(await store.countHits(unknown), 0)
        t.equal((await store.hit(unknown, 1, 10_000)).count, 1, 'no negative counter was left behind')
      })

      t.test('releaseHit keeps the end of the window', async (t) => {
        const store = await fresh(t)
        const key = `release-window:${randomUUID()}`
        await store.hit(key, 5, 200)
        await store.hit(key, 5, 200)
        await store.releaseHit(key)
        await sleep(300)
        t.equal(await store.countHits(key), 0, 'the window still ended on time')
        t.equal((await store.hit(key, 5, 200)).count, 1)
      })

      t.test('countHits reads without counting', async (t) => {
        const store = await fresh(t)
        const key = `count:${randomUUID()}`
        t.equal(await store.countHits(key), 0)
        await store.hit(key, 3, 10_000)
        t.equal(await store.countHits(key), 1)
        t.equal(await store.countHits(key), 1)
      })

      t.test('50 concurrent releases of 50 hits leave exactly zero', async (t) => {
        const store = await fresh(t)
        const key = `release-burst:${randomUUID()}`
        await Promise.all(Array.from({ length: 50 }, async () => await store.hit(key, 10, 10_000)))
        await Promise.all(Array.from({ length: 60 }, async () => { await store.releaseHit(key) }))
        t.equal(await store.countHits(key), 0)
      })

      t.test('50 concurrent hits are all counted', async (t) => {
        const store = await fresh(t)
        const key = `burst:${randomUUID()}`
        const results = await Promise.all(Array.from({ length: 50 }, async () => await store.hit(key, 10, 10_000)))
        t.strictSame(results.map((r) => r.count).sort((x, y) => x - y), Array.from({ length: 50 }, (_v, i) => i + 1))
        t.equal(results.filter((r) => r.allowed).length, 10)
      })
    })

    t.test('sessions', async (t) => {
      t.test('createSession/getSession round-trip every field, numbers as numbers', async (t) => {
        const store = await fresh(t)
        const now = Date.now()
        const full = newSession(randomUUID(), now, {
          deviceName: 'Pixel 8', ip: '203.0.113.7', userAgent: 'okhttp/4', revokedAt: now + 1, revokedReason: 'test'
        })
        await store.createSession(full)
        t.strictSame(await store.getSession(full.id), full)

        const minimal = newSession(randomUUID(), now)
        await store.createSession(minimal)
        const got = await store.getSession(minimal.id)
        t.strictSame(got, minimal)
        t.strictSame(Object.keys(got ?? {}).sort(), Object.keys(minimal).sort(), 'absent optional fields stay absent')
        t.equal(await store.getSession(randomUUID()), null)
      })

      t.test('a session keeps its kind (first-party, third-party, client) and an empty scope, through rotation and revocation', async (t) => {
        const store = await fresh(t)
        const now = Date.now()
        const kinds = [
          newSession(randomUUID(), now, { kind: 'first-party' }),
          newSession(randomUUID(), now, { kind: 'third-party', clientId: 'partner', scope: '' }),
          newSession('client:partner', now, { kind: 'client', clientId: 'partner', scope: 'reports' })
        ]
        for (const s of kinds) await store.createSession(s)
        for (const s of kinds) t.strictSame(await store.getSession(s.id), s, s.kind!)
        const rotated = await store.rotateRefresh({ sessionId: kinds[1]!.id, presentedGen: 1, now, graceMs: 10_000, newExpiresAt: now + 60_000 })
        t.equal(rotated.status, 'rotated')
        t.equal(rotated.session?.kind, 'third-party', 'the rotation step returns it')
        t.equal(rotated.session?.scope, '', 'an empty scope stays an empty scope, not an absent one')
        t.equal((await store.revokeSession(kinds[1]!.id, 'logout', now))?.kind, 'third-party')
        t.equal((await store.getSession(kinds[1]!.id))?.kind, 'third-party', 'still after the revocation')
      })

      t.test('listUserSessions: live ones only, oldest first, only this user\'s', async (t) => {
        const store = await fresh(t)
        const now = Date.now()
        const userId = randomUUID()
        const newer = newSession(userId, now - 1_000)
        const older = newSession(userId, now - 5_000)
        const revoked = newSession(userId, now - 3_000)
        const expired = newSession(userId, now - 4_000, { expiresAt: now - 1 })
        const other = newSession(randomUUID(), now - 2_000)
        for (const s of [newer, older, revoked, expired, other]) await store.createSession(s)
        await store.revokeSession(revoked.id, 'logout', now)

        t.strictSame((await store.listUserSessions(userId, now)).map((s) => s.id), [older.id, newer.id])
        t.strictSame(await store.listUserSessions(randomUUID(), now), [])
        t.strictSame((await store.listUserSessions(userId, now)).map((s) => s.id), [older.id, newer.id], 'stable on a second read')
        t.notOk(await store.getSession(expired.id) === null, 'an expired session is still readable until its retention ends')
      })

      t.test('revokeSession marks the session, keeps the first revocation, and is null when missing', async (t) => {
        const store = await fresh(t)
        const now = Date.now()
        const s = newSession(randomUUID(), now)
        await store.createSession(s)
        const revoked = await store.revokeSession(s.id, 'logout', now + 10)
        t.equal(revoked?.revokedAt, now + 10)
        t.equal(revoked?.revokedReason, 'logout')
        const again = await store.revokeSession(s.id, 'admin', now + 20)
        t.strictSame(again, revoked, 'idempotent: the first revocation stands')
        t.strictSame(await store.getSession(s.id), revoked)
        t.equal(await store.revokeSession(randomUUID(), 'logout', now), null)
      })

      t.test('revokeUserSessions revokes every live session but the exception and returns their ids', async (t) => {
        const store = await fresh(t)
        const now = Date.now()
        const userId = randomUUID()
        const keep = newSession(userId, now - 4_000)
        const a = newSession(userId, now - 3_000)
        const b = newSession(userId, now - 2_000)
        const alreadyRevoked = newSession(userId, now - 1_000)
        const expired = newSession(userId, now - 5_000, { expiresAt: now - 1 })
        const otherUsers = newSession(randomUUID(), now)
        for (const s of [keep, a, b, alreadyRevoked, expired, otherUsers]) await store.createSession(s)
        await store.revokeSession(alreadyRevoked.id, 'logout', now)

        const ids = await store.revokeUserSessions(userId, 'password_changed', now + 1, keep.id)
        t.strictSame([...ids].sort(), [a.id, b.id].sort())
        t.equal((await store.getSession(a.id))?.revokedReason, 'password_changed')
        t.equal((await store.getSession(a.id))?.revokedAt, now + 1)
        t.equal((await store.getSession(alreadyRevoked.id))?.revokedReason, 'logout', 'an earlier revocation stands')
        t.equal((await store.getSession(keep.id))?.revokedAt, undefined)
        t.equal((await store.getSession(otherUsers.id))?.revokedAt, undefined, 'other users are untouched')
        t.strictSame((await store.listUserSessions(userId, now + 1)).map((s) => s.id), [keep.id])

        t.strictSame(await store.revokeUserSessions(userId, 'password_changed', now + 2, keep.id), [], 'nothing left but the exception')
        t.strictSame(await store.revokeUserSessions(userId, 'logout_all', now + 3), [keep.id], 'without an exception, all of them')
        t.strictSame(await store.listUserSessions(userId, now + 3), [])
        t.strictSame(await store.revokeUserSessions(randomUUID(), 'logout_all', now), [])
      })

      t.test('200 sessions for one user: listUserSessions stays exact as they pile up and die', async (t) => {
        const store = await fresh(t)
        const now = Date.now()
        const userId = randomUUID()
        const ids: string[] = []
        for (let i = 0; i < 200; i++) {
          const s = newSession(userId, now - 200_000 + i * 1_000)
          await store.createSession(s)
          ids.push(s.id)
          // Every 10th stays live; the other even ones are logged out at once, the odd ones at the end.
          if (i % 10 !== 0 && i % 2 === 0) await store.revokeSession(s.id, 'logout', now)
          if (i === 99) {
            t.strictSame((await store.listUserSessions(userId, now)).map((x) => x.id), ids.filter((_id, j) => j % 10 === 0 || j % 2 === 1),
              'after 100 logins: every session not logged out, oldest first')
          }
        }
        for (let i = 1; i < 200; i += 2) await store.revokeSession(ids[i]!, 'logout', now)
        const live = ids.filter((_id, i) => i % 10 === 0).map((id) => ({ id }))
        t.strictSame((await store.listUserSessions(userId, now)).map((x) => x.id), live.map((x) => x.id), 'the 20 live ones, oldest first')
        t.strictSame((await store.listUserSessions(userId, now)).map((x) => x.id), live.map((x) => x.id), 'stable on a second read')
        t.strictSame((await store.revokeUserSessions(userId, 'logout_all', now + 1)).sort(), live.map((x) => x.id).sort(), 'logout-all finds every live one')
        t.strictSame(await store.listUserSessions(userId, now + 1), [])
      })
    })

    t.test('refresh rotation', async (t) => {
      const graceMs = 10_000
      const lifetime = 30 * 24 * 3600_000

      async function withSession (t: Test, now: number, over: Partial<Session> = {}): Promise<{ store: Store, s: Session }> {
        const store = await fresh(t)
        const s = newSession(randomUUID(), now, over)
        await store.createSession(s)
        return { store, s }
      }

      t.test('the current gen rotates: gen+1, rotatedAt, lastUsedAt and expiresAt move', async (t) => {
        const now = Date.now()
        const { store, s } = await withSession(t, now)
        const r = await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + 5, graceMs, newExpiresAt: now + 5 + lifetime })
        t.equal(r.status, 'rotated')
        t.strictSame(r.session, { ...s, refreshGen: s.refreshGen + 1, rotatedAt: now + 5, lastUsedAt: now + 5, expiresAt: now + 5 + lifetime })
        t.strictSame(await store.getSession(s.id), r.session, 'stored as returned')

        const r2 = await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen + 1, now: now + 10, graceMs, newExpiresAt: now + 10 + lifetime })
        t.equal(r2.status, 'rotated')
        t.equal(r2.session?.refreshGen, s.refreshGen + 2)
      })

      t.test('the previous gen within the grace window is grace and changes nothing', async (t) => {
        const now = Date.now()
        const { store, s } = await withSession(t, now)
        const rotated = await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now, graceMs, newExpiresAt: now + lifetime })
        const r = await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + graceMs - 1, graceMs, newExpiresAt: now + 2 * lifetime })
        t.equal(r.status, 'grace')
        t.strictSame(r.session, rotated.session)
        t.strictSame(await store.getSession(s.id), rotated.session)
      })

      t.test('the previous gen after the grace window is reuse and revokes the session', async (t) => {
        const now = Date.now()
        const { store, s } = await withSession(t, now)
        await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now, graceMs, newExpiresAt: now + lifetime })
        const r = await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + graceMs, graceMs, newExpiresAt: now + 2 * lifetime })
        t.equal(r.status, 'reused', 'the window is [rotatedAt, rotatedAt + graceMs)')
        t.equal(r.session?.revokedAt, now + graceMs)
        t.equal(r.session?.revokedReason, 'refresh_token_reused')
        t.equal(r.session?.refreshGen, s.refreshGen + 1, 'no rotation happened')
        t.strictSame(await store.getSession(s.id), r.session)
        t.strictSame(await store.listUserSessions(s.userId, now + graceMs), [])

        const current = await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen + 1, now: now + graceMs + 1, graceMs, newExpiresAt: now + 2 * lifetime })
        t.equal(current.status, 'revoked', 'even the current token is dead now')
      })

      t.test('a gen older than the previous one is reuse, even within the grace window', async (t) => {
        const now = Date.now()
        const { store, s } = await withSession(t, now)
        await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now, graceMs, newExpiresAt: now + lifetime })
        await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen + 1, now: now + 1, graceMs, newExpiresAt: now + lifetime })
        const r = await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + 2, graceMs, newExpiresAt: now + lifetime })
        t.equal(r.status, 'reused')
        t.equal(r.session?.revokedReason, 'refresh_token_reused')
      })

      t.test('before the first rotation there is no previous gen: gen-1 is reuse', async (t) => {
        const now = Date.now()
        const { store, s } = await withSession(t, now, { refreshGen: 3 })
        const r = await store.rotateRefresh({ sessionId: s.id, presentedGen: 2, now, graceMs, newExpiresAt: now + lifetime })
        t.equal(r.status, 'reused')
      })

      t.test('a gen newer than the current one is reuse', async (t) => {
        const now = Date.now()
        const { store, s } = await withSession(t, now)
        const r = await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen + 1, now, graceMs, newExpiresAt: now + lifetime })
        t.equal(r.status, 'reused')
      })

      t.test('past expiresAt it is expired and the session is left as is', async (t) => {
        const now = Date.now()
        const { store, s } = await withSession(t, now, { expiresAt: now + 1_000 })
        const r = await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + 1_000, graceMs, newExpiresAt: now + lifetime })
        t.equal(r.status, 'expired')
        t.strictSame(r.session, s)
        t.strictSame(await store.getSession(s.id), s)
      })

      t.test('an already revoked session answers revoked and stays as it was', async (t) => {
        const now = Date.now()
        const { store, s } = await withSession(t, now)
        const revoked = await store.revokeSession(s.id, 'logout', now)
        const r = await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + 1, graceMs, newExpiresAt: now + lifetime })
        t.equal(r.status, 'revoked')
        t.strictSame(r.session, revoked)
      })

      t.test('expectedNonce: a different nonce is stale and changes nothing; the right one rotates', async (t) => {
        const now = Date.now()
        const { store, s } = await withSession(t, now)
        t.strictSame(await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now, graceMs, newExpiresAt: now + lifetime, expectedNonce: 'not-' + s.refreshNonce }),
          { status: 'stale' })
        t.strictSame(await store.getSession(s.id), s, 'untouched')
        t.strictSame(await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen + 5, now, graceMs, newExpiresAt: now + lifetime, expectedNonce: 'x' }),
          { status: 'stale' }, 'checked before reuse detection: a stale guess never revokes')
        t.equal((await store.getSession(s.id))?.revokedAt, undefined)
        const r = await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now, graceMs, newExpiresAt: now + lifetime, expectedNonce: s.refreshNonce })
        t.equal(r.status, 'rotated')
        t.equal(r.session?.refreshGen, s.refreshGen + 1)
        t.strictSame(await store.rotateRefresh({ sessionId: randomUUID(), presentedGen: 1, now, graceMs, newExpiresAt: now + lifetime, expectedNonce: 'x' }),
          { status: 'missing' })
      })

      t.test('an unknown session is missing', async (t) => {
        const store = await fresh(t)
        const now = Date.now()
        t.strictSame(await store.rotateRefresh({ sessionId: randomUUID(), presentedGen: 1, now, graceMs, newExpiresAt: now + lifetime }), { status: 'missing' })
      })

      t.test('50 concurrent rotations of one gen: exactly one rotated, the rest grace', async (t) => {
        const now = Date.now()
        const { store, s } = await withSession(t, now)
        const results = await Promise.all(Array.from({ length: 50 }, async (_v, i) =>
          await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + i, graceMs, newExpiresAt: now + i + lifetime })))
        t.equal(results.filter((r) => r.status === 'rotated').length, 1)
        t.equal(results.filter((r) => r.status === 'grace').length, 49)
        const after = await store.getSession(s.id)
        t.equal(after?.refreshGen, s.refreshGen + 1)
        t.equal(after?.revokedAt, undefined)
        for (const r of results) t.equal(r.session?.refreshGen, s.refreshGen + 1)
      })
    })

    t.test('revocation feed', async (t) => {
      const TTL = DEFAULT_DENY_TTL_MS

      /** A listener that collects messages; `subscribe then load`, as a verifier does. */
      async function listen (t: Test, store: Store): Promise<{ messages: string[], stop: () => void }> {
        const messages: string[] = []
        const stop = store.subscribeRevocations((m) => { messages.push(m) })
        t.teardown(stop)
        await store.denylist()
        return { messages, stop }
      }

      async function entries (store: Store): Promise<Map<string, string>> {
        const { entries } = await store.denylist()
        return new Map(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
      }

      t.test('the feed log: a snapshot cursor resumes with exactly the later entries, in order; a foreign or malformed cursor cannot', async (t) => {
        const store = await fresh(t)
        const live: Array<[string, string]> = []
        t.teardown(store.subscribeRevocations((m, c) => { live.push([m, c]) }))
        const snapshot = await store.denylist()
        t.same(await store.revocationsAfter(snapshot.cursor, 10), [], 'nothing logged after the snapshot yet')
        const now = Date.now()
        for (const id of ['a', 'b', 'c']) {
          await store.createSession(newSession('feed-user', now, { id: `feed-${id}` }))
          await store.revokeSession(`feed-${id}`, 'logout', now)
        }
        await store.revokeUserSessions('feed-user-2', 'admin', now)
        const after = await store.revocationsAfter(snapshot.cursor, 10)
        t.equal(after?.length, 4, 'exactly the four revocations')
        t.same(after?.map((e) => e.message.slice(0, e.message.indexOf('='))), ['s:feed-a', 's:feed-b', 's:feed-c', 'u:feed-user-2'])
        await pollUntil(async () => live.length === 4)
        t.same(live, after!.map((e) => [e.message, e.cursor]), 'subscribers got the same entries with the same cursors')
        t.same(await store.revocationsAfter(after![1]!.cursor, 10), after!.slice(2), 'resuming from the second gives the last two')
        t.same(await store.revocationsAfter(snapshot.cursor, 1), after!.slice(0, 1), 'limit')
        t.same(await store.revocationsAfter(after![3]!.cursor, 10), [], 'nothing after the last')
        const foreign = `0123456789abcdef.${after![0]!.cursor.split('.')[1]!}`
        t.equal(await store.revocationsAfter(foreign, 10), null, 'another epoch: reload')
        t.equal(await store.revocationsAfter('not-a-cursor', 10), null, 'malformed: reload')
      })

      t.test('the epoch is "<createdAtMs>:<random>", made once, at millisecond resolution', async (t) => {
        const store = await fresh(t)
        const now = Math.floor(Date.now() / 1000) * 1000 + 737
        const epoch = await store.ensureEpoch(now)
        t.match(epoch, /^\d+:[0-9a-f]{16}$/)
        t.equal(Number(epoch.split(':')[0]), now, 'the very millisecond, not floored to the second')
        t.equal(await store.ensureEpoch(now + 10_000), epoch, 'SET NX: the first one stays')
        t.equal((await store.denylist()).epoch, epoch)
      })

      t.test('revokeSession writes s:<sid> = revokedAt:expiresAt and publishes it, only when it revokes', async (t) => {
        const store = await fresh(t)
        const { messages } = await listen(t, store)
        const now = Date.now()
        const s = newSession(randomUUID(), now)
        await store.createSession(s)
        await store.revokeSession(s.id, 'kicked', now + 1)
        const value = `${now + 1}:${now + 1 + TTL}`
        await until(() => messages.length >= 1)
        t.strictSame(messages, [`s:${s.id}=${value}`], 'one message, the same text as the hash')
        t.equal((await entries(store)).get(`s:${s.id}`), value)

        await store.revokeSession(s.id, 'admin', now + 50)
        await store.revokeSession(randomUUID(), 'admin', now + 50)
        await sleep(100)
        t.equal(messages.length, 1, 'an already revoked or unknown session writes nothing')
        t.equal((await entries(store)).get(`s:${s.id}`), value, 'the first entry stands')
      })

      t.test('refresh-token reuse writes and publishes s:<sid> in the rotation step', async (t) => {
        const store = await fresh(t)
        const { messages } = await listen(t, store)
        const now = Date.now()
        const s = newSession(randomUUID(), now)
        await store.createSession(s)
        await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now, graceMs: 0, newExpiresAt: now + 60_000 })
        t.equal((await entries(store)).size, 0, 'a rotation writes nothing')
        const r = await store.rotateRefresh({ sessionId: s.id, presentedGen: s.refreshGen, now: now + 7, graceMs: 0, newExpiresAt: now + 60_000 })
        t.equal(r.status, 'reused')
        await until(() => messages.length >= 1)
        t.strictSame(messages, [`s:${s.id}=${now + 7}:${now + 7 + TTL}`])
        t.equal((await entries(store)).get(`s:${s.id}`), `${now + 7}:${now + 7 + TTL}`)
      })

      t.test('revokeUserSessions writes ONE u:<userId> entry, with exceptSid when one session survives', async (t) => {
        const store = await fresh(t)
        const { messages } = await listen(t, store)
        const now = Date.now()
        const userId = randomUUID()
        const keep = newSession(userId, now - 2)
        const a = newSession(userId, now - 1)
        for (const s of [keep, a]) await store.createSession(s)

        await store.revokeUserSessions(userId, 'password_changed', now, keep.id)
        await until(() => messages.length >= 1)
        const withExcept = `${now}:${now + TTL}:${keep.id}`
        t.strictSame(messages, [`u:${userId}=${withExcept}`], 'one message for the user, none per session')
        const map = await entries(store)
        t.equal(map.get(`u:${userId}`), withExcept)
        t.notOk(map.has(`s:${a.id}`), 'no session entries: the user entry covers them')

        // A later user-level revocation without exception: later time, no exceptSid.
        await store.revokeUserSessions(userId, 'admin', now + 100)
        await until(() => messages.length >= 2)
        t.equal(messages[1], `u:${userId}=${now + 100}:${now + 100 + TTL}`)
        // An earlier clock (another replica) never moves the entry back.
        await store.revokeUserSessions(userId, 'logout_others', now + 50, keep.id)
        await until(() => messages.length >= 3)
        t.equal((await entries(store)).get(`u:${userId}`), `${now + 100}:${now + 100 + TTL}:${keep.id}`)
        t.equal(messages[2], `u:${userId}=${now + 100}:${now + 100 + TTL}:${keep.id}`, 'the message carries the stored value')
      })

      t.test('a user with no live session still gets the user entry (tokens the store no longer knows)', async (t) => {
        const store = await fresh(t)
        const userId = randomUUID()
        const now = Date.now()
        t.strictSame(await store.revokeUserSessions(userId, 'admin', now), [])
        t.equal((await entries(store)).get(`u:${userId}`), `${now}:${now + TTL}`)
      })

      t.test('pruneDenylist drops entries whose expiresAt has passed, and only those', async (t) => {
        const store = await fresh(t)
        const now = Date.now()
        const old = newSession(randomUUID(), now - TTL - 10)
        const recent = newSession(randomUUID(), now)
        for (const s of [old, recent]) await store.createSession(s)
        await store.revokeSession(old.id, 'logout', now - TTL - 10)
        await store.revokeSession(recent.id, 'logout', now)
        const oldUser = randomUUID()
        await store.revokeUserSessions(oldUser, 'admin', now - TTL)

        t.equal(await store.pruneDenylist(now - TTL - 11), 0, 'nothing expired yet')
        t.equal(await store.pruneDenylist(now), 2, 'expiresAt <= now: both old entries')
        t.strictSame([...(await entries(store)).keys()], [`s:${recent.id}`])
        t.equal(await store.pruneDenylist(now), 0)
      })

      t.test('unsubscribe stops delivery; a throwing listener breaks nothing', async (t) => {
        const store = await fresh(t)
        const bad = store.subscribeRevocations(() => { throw new Error('listener bug') })
        t.teardown(bad)
        const { messages, stop } = await listen(t, store)
        const now = Date.now()
        const a = newSession(randomUUID(), now)
        const b = newSession(randomUUID(), now)
        for (const s of [a, b]) await store.createSession(s)
        t.equal((await store.revokeSession(a.id, 'logout', now))?.revokedAt, now, 'the revocation is saved')
        await until(() => messages.length >= 1)
        stop()
        await store.revokeSession(b.id, 'logout', now)
        await sleep(100)
        t.equal(messages.length, 1, 'nothing after unsubscribe')
        t.ok((await entries(store)).has(`s:${b.id}`), 'still written')
      })
    })

    t.test('markOnce: one true per key within its ttl, 50 concurrent marks included', async (t) => {
      const store = await fresh(t)
      const results = await Promise.all(Array.from({ length: 50 }, () => store.markOnce('jkt:jti-1', 300)))
      t.equal(results.filter(Boolean).length, 1)
      t.equal(await store.markOnce('jkt:jti-2', 300), true, 'another key is independent')
      await new Promise((resolve) => setTimeout(resolve, 350))
      t.equal(await store.markOnce('jkt:jti-1', 300), true, 'after the ttl the key is free again')
    })

    t.test('risk events: newest first, bounded, per user', async (t) => {
      const store = await fresh(t)
      const userId = randomUUID()
      for (let i = 0; i < 105; i++) {
        await store.addRiskEvent({ at: 1000 + i, userId, sessionId: 's1', reason: i % 2 === 0 ? 'ip_changed' : 'dpop_key_mismatch', refused: i % 2 === 1, ip: '10.0.0.1' })
      }
      const events = await store.listRiskEvents(userId)
      t.equal(events.length, 100)
      t.equal(events[0]!.at, 1104)
      t.strictSame(events[0], { at: 1104, userId, sessionId: 's1', reason: 'ip_changed', refused: false, ip: '10.0.0.1' })
      t.strictSame(await store.listRiskEvents(randomUUID()), [])
    })

    t.test('sessions keep their binding (jkt, fgpHash)', async (t) => {
      const store = await fresh(t)
      const s = newSession(randomUUID(), Date.now(), { jkt: 'thumbprint', fgpHash: 'hash' })
      await store.createSession(s)
      t.strictSame(await store.getSession(s.id), s)
    })

    t.test('ping resolves', async (t) => {
      const store = await fresh(t)
      await t.resolves(store.ping())
    })
  })
}

/** Polls (for the Redis driver, messages arrive over the network). */
async function until (check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(10)
  }
}

let mobileSeq = 0
/** A distinct E.164 number per call, so subtests never share state. */
function newMobile (): string {
  mobileSeq += 1
  return `+86138${String(process.pid % 10_000).padStart(4, '0')}${String(mobileSeq).padStart(4, '0')}`
}

function newUser (mobile: string): User {
  return { id: randomUUID(), mobile, createdAt: Date.now() }
}

function newSession (userId: string, createdAt: number, over: Partial<Session> = {}): Session {
  return {
    id: randomUUID(),
    userId,
    clientId: 'mobile-app',
    createdAt,
    lastUsedAt: createdAt,
    expiresAt: createdAt + 30 * 24 * 3600_000,
    refreshGen: 1,
    rotatedAt: 0,
    refreshNonce: randomUUID(),
    ...over
  }
}

/** Polls until `check` holds (the Redis follower delivers asynchronously); fails after `timeoutMs`. */
async function pollUntil (check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
