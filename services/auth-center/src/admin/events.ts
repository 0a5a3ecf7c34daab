import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import createError from '@fastify/error'
import { replies } from '../schemas.js'
import type { SecurityEvent } from '../store/store.js'
import { EVENT_CURSOR_PATTERN, MAX_EVENT_PAGE } from '../store/events/log.js'

// The schema's own error (400 FST_ERR_VALIDATION), for the one bound JSON Schema's pattern cannot say.
const LimitError = createError('FST_ERR_VALIDATION', 'querystring/limit must be at most 500', 400)

const IsoTime = Type.String({ format: 'date-time', description: 'ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z' })

const EventsQuery = Type.Object({
  user_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' })),
  // One parameter, comma-separated (type=login,login_failed): one rule for curl, browsers and the OpenAPI document.
  type: Type.Optional(Type.String({ pattern: '^[a-z_]{1,40}(,[a-z_]{1,40}){0,19}$', description: 'event types, comma-separated' })),
  since: Type.Optional(IsoTime),
  until: Type.Optional(IsoTime),
  // A string: the app's validator does not coerce query types; checked for 1-500 below.
  limit: Type.Optional(Type.String({ pattern: '^[1-9]\\d{0,2}$', description: `page size, 1-${MAX_EVENT_PAGE} (default 50)` })),
  cursor: Type.Optional(Type.String({ pattern: EVENT_CURSOR_PATTERN, description: 'next_cursor of the previous page' }))
}, { additionalProperties: false })

const Nullable = <T extends ReturnType<typeof Type.String | typeof Type.Boolean>>(t: T) => Type.Union([t, Type.Null()])
export const EventView = Type.Object({
  id: Type.String(),
  at: Type.String(),
  type: Type.String(),
  user_id: Nullable(Type.String()),
  session_id: Nullable(Type.String()),
  client_id: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  refused: Nullable(Type.Boolean()),
  actor: Nullable(Type.String()),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])
})

function view (e: SecurityEvent): Static<typeof EventView> {
  return {
    id: e.id,
    at: new Date(e.at).toISOString(),
    type: e.type,
    user_id: e.userId ?? null,
    session_id: e.sessionId ?? null,
    client_id: e.clientId ?? null,
    ip: e.ip ?? null,
    user_agent: e.userAgent ?? null,
    reason: e.reason ?? null,
    refused: e.refused ?? null,
    actor: e.actor ?? null,
    detail: e.detail ?? null
  }
}

/**
 * GET /admin/events: the audit log, newest first, filtered by user, type (comma-separated)
 * and time (since inclusive, until exclusive), `limit` per page (default 50, at most 500);
 * `next_cursor` is null on the last page. Registered inside the admin plugin, behind its auth.
 */
export function adminEventRoutes (parent: FastifyInstance): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/admin/events', {
    schema: {
      querystring: EventsQuery,
      response: replies({ 200: Type.Object({ events: Type.Array(EventView), next_cursor: Type.Union([Type.String(), Type.Null()]) }) })
    }
  }, async (request) => {
    const q = request.query
    const limit = q.limit === undefined ? 50 : Number(q.limit)
    if (limit > MAX_EVENT_PAGE) throw new LimitError()
    const page = await app.deps.store.queryEvents({
      userId: q.user_id,
      types: q.type?.split(','),
      since: q.since === undefined ? undefined : Date.parse(q.since),
      until: q.until === undefined ? undefined : Date.parse(q.until),
      limit,
      cursor: q.cursor
    })
    return { events: page.events.map(view), next_cursor: page.nextCursor ?? null }
  })
}
