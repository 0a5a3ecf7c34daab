import type { Queryable } from '../postgres/pool.js'
import type { EventStore, SecurityEvent, SecurityEventType } from './events.js'
import { checkQuery, parseEventCursor, riskView, toPage, withId } from './log.js'

interface EventRow {
  id: string
  at: Date
  type: string
  user_id: string | null
  session_id: string | null
  client_id: string | null
  ip: string | null
  user_agent: string | null
  reason: string | null
  refused: boolean | null
  actor: string | null
  detail: Record<string, unknown> | null
}

const COLUMNS = 'id, at, type, user_id, session_id, client_id, ip, user_agent, reason, refused, actor, detail'

function fromRow (r: EventRow): SecurityEvent {
  const e: SecurityEvent = { id: r.id, at: r.at.getTime(), type: r.type as SecurityEventType }
  if (r.user_id !== null) e.userId = r.user_id
  if (r.session_id !== null) e.sessionId = r.session_id
  if (r.client_id !== null) e.clientId = r.client_id
  if (r.ip !== null) e.ip = r.ip
  if (r.user_agent !== null) e.userAgent = r.user_agent
  if (r.reason !== null) e.reason = r.reason
  if (r.refused !== null) e.refused = r.refused
  if (r.actor !== null) e.actor = r.actor
  if (r.detail !== null) e.detail = r.detail
  return e
}

const iso = (ms: number): string => new Date(ms).toISOString()

/**
 * The audit log in PostgreSQL (table ac_security_events, migrations/0007_events.sql). A
 * page is one indexed range scan: `(at, id) < cursor` ordered by (at desc, id desc).
 * Statement failures that mean "PostgreSQL is not there" arrive as StoreUnavailableError
 * from the pool (postgres/pool.ts).
 */
export function createPostgresEvents (pg: Queryable): EventStore {
  const store: Omit<EventStore, 'addRiskEvent' | 'listRiskEvents'> = {
    async recordEvent (event) {
      const e = withId(event)
      await pg.query(`INSERT INTO ac_security_events (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, [
        e.id, iso(e.at), e.type, e.userId ?? null, e.sessionId ?? null, e.clientId ?? null, e.ip ?? null, e.userAgent ?? null,
        e.reason ?? null, e.refused ?? null, e.actor ?? null, e.detail === undefined ? null : JSON.stringify(e.detail)
      ])
      return e
    },

    async queryEvents (q) {
      checkQuery(q)
      const where: string[] = []
      const values: unknown[] = []
      const param = (v: unknown): string => { values.push(v); return `$${values.length}` }
      if (q.userId !== undefined) where.push(`user_id = ${param(q.userId)}`)
      if (q.types !== undefined && q.types.length > 0) where.push(`type = ANY(${param([...q.types])}::text[])`)
      if (q.since !== undefined) where.push(`at >= ${param(iso(q.since))}`)
      if (q.until !== undefined) where.push(`at < ${param(iso(q.until))}`)
      if (q.cursor !== undefined) {
        const pos = parseEventCursor(q.cursor)
        where.push(`(at, id) < (${param(iso(pos.at))}::timestamptz, ${param(pos.id)}::uuid)`)
      }
      const { rows } = await pg.query<EventRow>(
        `SELECT ${COLUMNS} FROM ac_security_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY at DESC, id DESC LIMIT ${param(q.limit + 1)}`, values)
      return toPage(rows.map(fromRow), q.limit)
    },

    async pruneEvents (before) {
      const { rowCount } = await pg.query('DELETE FROM ac_security_events WHERE at < $1', [iso(before)])
      return rowCount ?? 0
    }
  }
  return { ...store, ...riskView(store) }
}
