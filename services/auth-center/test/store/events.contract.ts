import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import type { EventStore, NewSecurityEvent, SecurityEvent } from '../../src/store/store.js'

export interface EventsFixture {
  events: EventStore
  teardown (): Promise<void>
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Every page of a query, following nextCursor. */
async function allPages (events: EventStore, q: Omit<Parameters<EventStore['queryEvents']>[0], 'cursor'>): Promise<SecurityEvent[][]> {
  const pages: SecurityEvent[][] = []
  let cursor: string | undefined
  do {
    const page = await events.queryEvents({ ...q, cursor })
    pages.push(page.events)
    cursor = page.nextCursor
  } while (cursor !== undefined && pages.length < 100)
  return pages
}

const byLog = (a: SecurityEvent, b: SecurityEvent): number => a.at !== b.at ? b.at - a.at : a.id < b.id ? 1 : a.id > b.id ? -1 : 0

/**
 * The behaviour every EventStore driver must have, run once per driver. Each subtest gets a
 * fresh store from `make`.
 */
export async function eventsContract (t: Test, name: string, make: () => Promise<EventsFixture>): Promise<void> {
  await t.test(`${name} events contract`, async (t) => {
    async function fresh (t: Test): Promise<EventStore> {
      const { events, teardown } = await make()
      t.teardown(teardown)
      return events
    }

    t.test('risk events: newest first, bounded, per user', async (t) => {
      const events = await fresh(t)
      const userId = randomUUID()
      for (let i = 0; i < 105; i++) {
        await events.addRiskEvent({ at: 1000 + i, userId, sessionId: 's1', reason: i % 2 === 0 ? 'ip_changed' : 'dpop_key_mismatch', refused: i % 2 === 1, ip: '10.0.0.1' })
      }
      const risks = await events.listRiskEvents(userId)
      t.equal(risks.length, 100)
      t.equal(risks[0]!.at, 1104)
      t.strictSame(risks[0], { at: 1104, userId, sessionId: 's1', reason: 'ip_changed', refused: false, ip: '10.0.0.1' })
      t.strictSame(await events.listRiskEvents(randomUUID()), [])
    })

    t.test('a risk event is in the audit log: a reused refresh token under its own type', async (t) => {
      const events = await fresh(t)
      const userId = randomUUID()
      await events.addRiskEvent({ at: 5000, userId, sessionId: 's1', clientId: 'web', reason: 'refresh_token_reused', refused: true, ip: '10.0.0.2', userAgent: 'ua' })
      await events.addRiskEvent({ at: 5001, userId, sessionId: 's1', reason: 'ip_changed', refused: false })
      await events.recordEvent({ at: 5002, type: 'login', userId, reason: 'sms' })
      const { events: log } = await events.queryEvents({ userId, limit: 10 })
      t.strictSame(log.map((e) => [e.type, e.reason]), [['login', 'sms'], ['risk', 'ip_changed'], ['refresh_token_reused', 'refresh_token_reused']])
      t.strictSame((await events.listRiskEvents(userId)).map((r) => r.reason), ['ip_changed', 'refresh_token_reused'])
      t.strictSame((await events.listRiskEvents(userId))[1], { at: 5000, userId, sessionId: 's1', clientId: 'web', reason: 'refresh_token_reused', refused: true, ip: '10.0.0.2', userAgent: 'ua' })
    })

    t.test('recordEvent gives the event a UUID and the query answers it field for field', async (t) => {
      const events = await fresh(t)
      const full: NewSecurityEvent = {
        at: 1_700_000_000_123, type: 'admin_action', userId: 'u1', sessionId: 's1', clientId: 'c1', ip: '203.0.113.9',
        userAgent: 'curl/8', reason: 'logout_user', refused: false, actor: 'admin-token', detail: { route: 'POST /admin/users/:id/logout', revoked: 2 }
      }
      const stored = await events.recordEvent(full)
      t.match(stored.id, UUID)
      t.strictSame(stored, { id: stored.id, ...full })
      const bare = await events.recordEvent({ at: 1_700_000_000_124, type: 'client_deleted', clientId: 'c2' })
      const { events: log, nextCursor } = await events.queryEvents({ limit: 10 })
      t.strictSame(log, [{ id: bare.id, at: 1_700_000_000_124, type: 'client_deleted', clientId: 'c2' }, stored])
      t.equal(nextCursor, undefined)
    })

    t.test('pages follow the cursor: every event once, newest first, ties at one millisecond by id', async (t) => {
      const events = await fresh(t)
      const userId = randomUUID()
      const made: SecurityEvent[] = []
      // 25 events on 9 distinct milliseconds (up to 3 at each), recorded out of order.
      for (const i of [...Array(25).keys()].sort((a, b) => (a * 7) % 25 - (b * 7) % 25)) {
        made.push(await events.recordEvent({ at: 10_000 + Math.floor(i / 3), type: 'login', userId, reason: String(i) }))
      }
      await events.recordEvent({ at: 10_003, type: 'login', userId: randomUUID() })
      const pages = await allPages(events, { userId, limit: 10 })
      t.strictSame(pages.map((p) => p.length), [10, 10, 5])
      t.strictSame(pages.flat().map((e) => e.id), [...made].sort(byLog).map((e) => e.id))
    })

    t.test('a page does not shift when events are recorded after the one before it was read', async (t) => {
      const events = await fresh(t)
      for (let i = 0; i < 6; i++) await events.recordEvent({ at: 20_000 + i, type: 'login_failed', reason: String(i) })
      const first = await events.queryEvents({ limit: 3 })
      t.strictSame(first.events.map((e) => e.reason), ['5', '4', '3'])
      await events.recordEvent({ at: 20_010, type: 'login_failed', reason: 'later' })
      await events.recordEvent({ at: 20_003, type: 'login_failed', reason: 'same ms' })
      const second = await events.queryEvents({ limit: 3, cursor: first.nextCursor })
      const rest = second.events.map((e) => e.reason)
      // The one recorded at the cursor's millisecond sorts by its random id: before or after the cursor.
      t.ok(rest.join() === '2,1,0' || rest.join() === 'same ms,2,1', `second page ${rest.join()}`)
      const all = (await allPages(events, { limit: 3 })).flat().map((e) => e.reason)
      t.equal(all.length, 8)
      t.equal(new Set(all).size, 8)
    })

    t.test('filters: user, several types, since inclusive, until exclusive', async (t) => {
      const events = await fresh(t)
      const [a, b] = [randomUUID(), randomUUID()]
      const types = ['login', 'login_failed', 'session_revoked', 'client_registered'] as const
      for (let i = 0; i < 40; i++) {
        await events.recordEvent({ at: 30_000 + i, type: types[i % 4]!, userId: i % 4 === 3 ? undefined : i % 2 === 0 ? a : b, reason: String(i) })
      }
      const reasons = async (q: Parameters<EventStore['queryEvents']>[0]): Promise<string[]> =>
        (await allPages(events, q)).flat().map((e) => e.reason!)
      t.strictSame(await reasons({ userId: a, limit: 7 }), ['38', '36', '34', '32', '30', '28', '26', '24', '22', '20', '18', '16', '14', '12', '10', '8', '6', '4', '2', '0'])
      t.strictSame(await reasons({ types: ['login_failed', 'session_revoked'], since: 30_030, limit: 3 }), ['38', '37', '34', '33', '30'])
      t.strictSame(await reasons({ userId: b, types: ['login_failed'], since: 30_005, until: 30_021, limit: 2 }), ['17', '13', '9', '5'])
      t.strictSame(await reasons({ types: ['client_registered'], until: 30_012, limit: 500 }), ['11', '7', '3'])
      t.strictSame(await reasons({ userId: a, types: ['client_registered'], limit: 5 }), [])
      t.strictSame(await reasons({ since: 30_040, limit: 5 }), [])
    })

    t.test('pruneEvents drops what is older than its bound, for the user and globally', async (t) => {
      const events = await fresh(t)
      const userId = randomUUID()
      for (let i = 0; i < 30; i++) await events.recordEvent({ at: 40_000 + i, type: 'login', userId: i % 3 === 0 ? undefined : userId, reason: String(i) })
      t.equal(await events.pruneEvents(40_010), 10)
      const all = (await allPages(events, { limit: 50 })).flat()
      t.equal(all.length, 20)
      t.equal(all[all.length - 1]!.at, 40_010)
      const mine = (await allPages(events, { userId, limit: 50 })).flat()
      t.equal(mine.length, 14)
      t.ok(mine.every((e) => e.at >= 40_010))
      t.equal(await events.pruneEvents(40_010), 0)
    })
  })
}
