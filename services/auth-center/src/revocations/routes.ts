import { Type } from '@sinclair/typebox'
import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { clientTokenVerdict } from '../admin/admin-token.js'
import { RevocationFeedForbiddenError, RevocationFeedUnauthorizedError } from '../errors.js'
import { REVOCATIONS_SCOPE } from '../oauth/scopes.js'
import { replies, textReply } from '../schemas.js'
import { RevocationHub, type FeedStream } from './hub.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The revocation feed's fan-out (hub.ts): connected streams, epoch. */
    revocationHub: RevocationHub
  }
}

export interface RevocationRoutesOptions {
  /** How often streams get a heartbeat (and the epoch is re-read). Default 5 s. */
  heartbeatMs?: number
}

/** The paths of docs/revocation-protocol.md, advertised in the metadata. */
export const REVOCATIONS_PATH = '/revocations'
export const REVOCATIONS_STREAM_PATH = '/revocations/stream'

const Cursor = Type.String({ minLength: 1, maxLength: 128, pattern: '^[0-9a-f]{1,64}\\.\\d{1,16}-\\d{1,16}$' })

const Snapshot = Type.Object({
  epoch: Type.String(),
  cursor: Type.String(),
  entries: Type.Array(Type.String())
})

/** A stream's output buffer beyond which the reader is too slow and is cut off (it resumes from its cursor). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024

/**
 * The revocation feed over HTTP (docs/revocation-protocol.md), read-only, for clients
 * holding a client-credentials access token with `revocations:read`:
 * - `GET /revocations`: the live denylist entries, the store epoch, and the cursor they are complete up to;
 * - `GET /revocations/stream?cursor=…` (or `Last-Event-ID`): Server-Sent Events, each new
 *   entry with its cursor as `id`, heartbeats, `reset` when the cursor cannot be resumed.
 * Whatever the store driver: the feed only uses the store's revocation methods.
 */
const revocationRoutes: FastifyPluginAsyncTypebox<RevocationRoutesOptions> = async (app, opts) => {
  const { deps } = app
  const hub = new RevocationHub(deps.store, app.log, opts.heartbeatMs ?? 5_000, (ms) => { deps.metrics.feedLag(ms / 1000) })
  await hub.start(deps.now())
  deps.metrics.setFeedStreams(() => hub.connections)
  app.decorate('revocationHub', hub)
  // Open streams would keep close() waiting: end them first (verifiers resume elsewhere).
  app.addHook('preClose', async () => { hub.close() })

  /** The Bearer token's `exp` (seconds) when it may read the feed; RFC 6750 refusals otherwise. */
  async function authorize (request: FastifyRequest, reply: FastifyReply): Promise<number> {
    reply.header('cache-control', 'no-store')
    const header = request.headers.authorization
    const m = header === undefined ? null : /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header)
    if (m === null) {
      reply.header('www-authenticate', 'Bearer realm="revocations"')
      throw new RevocationFeedUnauthorizedError()
    }
    const verdict = await clientTokenVerdict(deps, m[1]!, REVOCATIONS_SCOPE)
    if (verdict === 'insufficient_scope') {
      reply.header('www-authenticate', `Bearer realm="revocations", error="insufficient_scope", scope="${REVOCATIONS_SCOPE}"`)
      throw new RevocationFeedForbiddenError()
    }
    if (verdict !== 'ok') {
      reply.header('www-authenticate', 'Bearer realm="revocations", error="invalid_token"')
      throw new RevocationFeedUnauthorizedError()
    }
    // Verified above: only the expiry is read here.
    const claims = JSON.parse(Buffer.from(m[1]!.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }
    return claims.exp
  }

  // Authenticated in onRequest, before any validation: nobody learns anything about the feed without a token.
  const expiries = new WeakMap<FastifyRequest, number>()
  const onRequest = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    expiries.set(request, await authorize(request, reply))
  }

  app.get(REVOCATIONS_PATH, {
    onRequest,
    schema: { response: replies({ 200: Snapshot }) }
  }, async () => {
    return await deps.store.denylist()
  })

  app.get(REVOCATIONS_STREAM_PATH, {
    onRequest,
    schema: {
      querystring: Type.Object({ cursor: Type.Optional(Cursor) }, { additionalProperties: false }),
      headers: Type.Object({ 'last-event-id': Type.Optional(Cursor) }),
      // The stream is written on the raw socket (hijacked): this only documents it.
      response: { 200: textReply('text/event-stream', 'Server-sent events: revocations, epoch changes and heartbeats (docs/revocation-protocol.md)') }
    }
  }, async (request, reply) => {
    const exp = expiries.get(request)!
    const cursor = request.query.cursor ?? request.headers['last-event-id']
    const raw = reply.raw
    reply.hijack()
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // Proxies (nginx) must pass each event at once.
      'x-accel-buffering': 'no',
      connection: 'keep-alive'
    })
    raw.flushHeaders()
    // No Nagle delay: each revocation is a small write that must leave at once.
    request.raw.socket.setNoDelay(true)
    let ended = false
    const stream: FeedStream = {
      write (chunk) {
        if (ended || raw.destroyed) return false
        raw.write(chunk)
        return raw.writableLength < MAX_BUFFERED_BYTES
      },
      end () {
        if (ended) return
        ended = true
        clearTimeout(expiry)
        hub.detach(stream)
        raw.end()
      }
    }
    // The stream lives as long as the token that opened it; the reader resumes with a new one.
    const expiry = setTimeout(() => {
      stream.write('event: end\ndata: {"reason":"token_expired"}\n\n')
      stream.end()
    }, Math.max(0, exp * 1000 - deps.now()))
    expiry.unref()
    raw.on('close', () => { stream.end() })
    try {
      if (await hub.attach(stream, cursor) === 'reset') {
        stream.write('event: reset\ndata: {"reason":"cursor_unknown"}\n\n')
        stream.end()
      }
    } catch (err) {
      request.log.warn({ err }, 'revocation feed: a stream could not start')
      stream.end()
    }
  })
}

// fastify-plugin: `revocationHub` is visible on the app (monitoring, tests).
export default fp(revocationRoutes, { name: 'authcenter-revocation-feed', fastify: '5.x' })
