import { randomBytes } from 'node:crypto'
import type { EventPage, EventQuery, EventStore, NewSecurityEvent, RiskEvent, SecurityEvent } from './events.js'

/**
 * What every events driver shares: the order of the log, the cursor, the filter, and the
 * risk-event view over the log. The order is (at desc, id desc); ids are lowercase,
 * time-ordered UUIDs (eventId), so JavaScript's string order, Redis's member order and PostgreSQL's uuid order agree.
 */

/** The position of an event in the log: `<at>.<id>`. The admin route checks the shape (EVENT_CURSOR_PATTERN). */
export interface EventPosition { at: number, id: string }

export const EVENT_CURSOR_PATTERN = '^\\d{1,16}\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
const CURSOR = new RegExp(EVENT_CURSOR_PATTERN)

export const MAX_EVENT_PAGE = 500
/** The risk-event view shows this many per user (GET /admin/users/:id/risk-events). */
export const RISK_EVENTS_SHOWN = 100
const RISK_TYPES = ['risk', 'refresh_token_reused'] as const

export function formatEventCursor (e: EventPosition): string {
  return `${e.at}.${e.id}`
}

/** A misused cursor is a caller bug here: the route validated its shape already. */
export function parseEventCursor (cursor: string): EventPosition {
  if (!CURSOR.test(cursor)) throw new TypeError('events: malformed cursor')
  const dot = cursor.indexOf('.')
  return { at: Number(cursor.slice(0, dot)), id: cursor.slice(dot + 1) }
}

/** Negative when `a` comes first in the log (is newer). */
export function newestFirst (a: EventPosition, b: EventPosition): number {
  if (a.at !== b.at) return b.at - a.at
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0
}

/** Whether `e` comes after `pos` in the log (is older). */
export function isAfter (e: EventPosition, pos: EventPosition): boolean {
  return newestFirst(e, pos) > 0
}

export function checkQuery (q: EventQuery): void {
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_EVENT_PAGE) throw new TypeError(`events: limit must be 1-${MAX_EVENT_PAGE}`)
}

/** Every filter of `q` but the cursor and the bounds the driver's index already applied. */
export function matches (e: SecurityEvent, q: EventQuery): boolean {
  if (q.userId !== undefined && e.userId !== q.userId) return false
  if (q.types !== undefined && q.types.length > 0 && !q.types.includes(e.type)) return false
  if (q.since !== undefined && e.at < q.since) return false
  if (q.until !== undefined && e.at >= q.until) return false
  return true
}

/** `found`: up to limit + 1 matching events, newest first; the extra one only says there is more. */
export function toPage (found: SecurityEvent[], limit: number): EventPage {
  if (found.length <= limit) return { events: found }
  const events = found.slice(0, limit)
  return { events, nextCursor: formatEventCursor(events[events.length - 1]!) }
}

let lastMs = 0
let seq = 0

/**
 * A time-ordered UUID (version 7 layout: 48-bit milliseconds, then a 12-bit sequence
 * in place of rand_a, then random bits), monotonic within this process: two events
 * recorded in the same millisecond (a revocation and the admin action that made it)
 * keep the order they were recorded in, on every driver, since the log's order is
 * (at desc, id desc) and uuid order is hex order.
 */
export function eventId (): string {
  let ms = Date.now()
  if (ms <= lastMs) {
    ms = lastMs
    seq++
    if (seq > 0xfff) { ms = ++lastMs; seq = 0 }
  } else {
    lastMs = ms
    seq = 0
  }
  const b = randomBytes(16)
  b.writeUIntBE(ms, 0, 6)
  b[6] = 0x70 | (seq >> 8)
  b[7] = seq & 0xff
  b[8] = 0x80 | (b[8]! & 0x3f)
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** The stored form: an id, and no undefined fields (so every driver answers the same objects). */
export function withId (event: NewSecurityEvent): SecurityEvent {
  const out: Record<string, unknown> = { id: eventId() }
  for (const [k, v] of Object.entries(event)) if (v !== undefined) out[k] = v
  if (!Number.isSafeInteger(event.at) || event.at < 0) throw new TypeError('events: at must be epoch milliseconds')
  return out as unknown as SecurityEvent
}

type Log = Pick<EventStore, 'recordEvent' | 'queryEvents'>

/**
 * The risk events of GET /admin/users/:id/risk-events as a view of the log: a reused
 * refresh token is its own type (`refresh_token_reused`), every other reason is `risk`.
 */
export function riskView (log: Log): Pick<EventStore, 'addRiskEvent' | 'listRiskEvents'> {
  return {
    async addRiskEvent (r: RiskEvent) {
      await log.recordEvent({
        at: r.at,
        type: r.reason === 'refresh_token_reused' ? 'refresh_token_reused' : 'risk',
        userId: r.userId,
        sessionId: r.sessionId,
        clientId: r.clientId,
        ip: r.ip,
        userAgent: r.userAgent,
        reason: r.reason,
        refused: r.refused
      })
    },
    async listRiskEvents (userId: string) {
      const { events } = await log.queryEvents({ userId, types: RISK_TYPES, limit: RISK_EVENTS_SHOWN })
      return events.map((e) => {
        const r: RiskEvent = { at: e.at, userId, reason: e.reason ?? e.type, refused: e.refused ?? false }
        if (e.sessionId !== undefined) r.sessionId = e.sessionId
        if (e.clientId !== undefined) r.clientId = e.clientId
        if (e.ip !== undefined) r.ip = e.ip
        if (e.userAgent !== undefined) r.userAgent = e.userAgent
        return r
      })
    }
  }
}
