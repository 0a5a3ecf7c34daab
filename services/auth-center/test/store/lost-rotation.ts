import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import type { SessionStore } from '../../src/store/sessions/sessions.js'

/**
 * A refresh token a generation ahead of the store: what a client holds when Redis lost
 * the rotation that issued it (a failover before the replica had it). It is rotated,
 * never taken for reuse (which would log the user out), and the store goes on from it.
 */
export async function lostRotationCase (t: Test, name: string, make: () => Promise<{ sessions: SessionStore, teardown (): Promise<void> }>): Promise<void> {
  await t.test(`${name}: a generation ahead of the store (a lost rotation) rotates, never counts as reuse`, async (t) => {
    const { sessions, teardown } = await make()
    t.teardown(teardown)
    const now = Date.now()
    const id = randomUUID()
    await sessions.createSession({ id, userId: randomUUID(), clientId: 'app', createdAt: now, lastUsedAt: now, expiresAt: now + 60_000, refreshGen: 3, rotatedAt: now - 1000, refreshNonce: 'n' })
    const ahead = await sessions.rotateRefresh({ sessionId: id, presentedGen: 4, now: now + 1, graceMs: 10_000, newExpiresAt: now + 60_001 })
    t.equal(ahead.status, 'rotated')
    t.equal(ahead.session?.refreshGen, 5, 'goes on from the presented generation')
    t.equal(ahead.session?.revokedAt, undefined)
    const next = await sessions.rotateRefresh({ sessionId: id, presentedGen: 5, now: now + 2, graceMs: 10_000, newExpiresAt: now + 60_002 })
    t.equal(next.status, 'rotated', 'the token it issued rotates as usual')
    t.equal(next.session?.refreshGen, 6)
    const old = await sessions.rotateRefresh({ sessionId: id, presentedGen: 3, now: now + 3, graceMs: 10_000, newExpiresAt: now + 60_003 })
    t.equal(old.status, 'reused', 'an older generation is still reuse')
  })
}
