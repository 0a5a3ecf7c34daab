// The HTTP transport, the default (docs/revocation-protocol.md): the auth center's
// snapshot (`GET revocation_feed_endpoint`) once, then its Server-Sent Events stream
// (`GET revocation_feed_stream_endpoint?cursor=…`), resumed from the last cursor after
// every disconnect, so a reconnect costs the entries missed and nothing more. Both are
// found in the issuer's metadata and read with a client-credentials token
// (scope `revocations:read`) this transport gets and renews itself.
import { STEP_TIMEOUT_MS, retryDelay, withTimeout } from './entries.js'
import { readEvents } from './sse.js'
import type { RevocationSink, RevocationSource } from './source.js'

export interface HttpFeedOptions {
  issuer: string
  clientId: string
  clientSecret: string
}

interface Endpoints {
  snapshot: string
  stream: string
  token: string
}

/** Silence for this many heartbeat intervals means the stream is dead (a quiet feed still beats). */
const MISSED_HEARTBEATS = 3
/** A token is renewed when it has less than this left. */
const TOKEN_MARGIN_MS = 10_000
const SCOPE = 'revocations:read'

class FeedError extends Error {
  constructor (message: string, readonly status?: number) { super(message) }
}

export function httpFeedSource (opts: HttpFeedOptions): RevocationSource {
  let sink!: RevocationSink
  let closed = false
  let endpoints: Endpoints | undefined
  let token: { value: string, renewAt: number } | undefined
  let cursor: string | undefined
  let controller: AbortController | undefined
  let retryTimer: NodeJS.Timeout | undefined
  let failures = 0
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(opts.clientId)}:${encodeURIComponent(opts.clientSecret)}`).toString('base64')}`

  async function getJson (url: string, init: RequestInit, what: string): Promise<Record<string, unknown>> {
    const res = await withTimeout(fetch(url, { ...init, redirect: 'error' }), STEP_TIMEOUT_MS, what)
    if (!res.ok) {
      await res.body?.cancel()
      throw new FeedError(`${what}: HTTP ${res.status}`, res.status)
    }
    const body = await withTimeout(res.json() as Promise<unknown>, STEP_TIMEOUT_MS, what)
    if (typeof body !== 'object' || body === null) throw new FeedError(`${what}: not a JSON object`)
    return body as Record<string, unknown>
  }

  async function discover (): Promise<Endpoints> {
    if (endpoints !== undefined) return endpoints
    const meta = await getJson(`${opts.issuer}/.well-known/oauth-authorization-server`, {}, 'the issuer metadata')
    const { revocation_feed_endpoint: snapshot, revocation_feed_stream_endpoint: stream, token_endpoint: tokenUrl } = meta
    if (typeof snapshot !== 'string' || typeof stream !== 'string' || typeof tokenUrl !== 'string') {
      throw new FeedError('the issuer metadata has no revocation_feed_endpoint, revocation_feed_stream_endpoint or token_endpoint')
    }
    endpoints = { snapshot, stream, token: tokenUrl }
    return endpoints
  }

  async function accessToken (ep: Endpoints): Promise<string> {
    if (token !== undefined && Date.now() < token.renewAt) return token.value
    const body = await getJson(ep.token, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString()
    }, 'the client-credentials token request')
    const value = body.access_token
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in * 1000 : 60_000
    if (typeof value !== 'string') throw new FeedError('the token endpoint answered no access_token')
    token = { value, renewAt: Date.now() + Math.max(expiresIn - TOKEN_MARGIN_MS, expiresIn / 2) }
    return value
  }

  /** A request with the token; a 401 drops the token (revoked, or the key rotated) for the next attempt. */
  async function authorized<T> (run: (bearer: string) => Promise<T>): Promise<T> {
    const ep = await discover()
    try {
      return await run(await accessToken(ep))
    } catch (err) {
      if (err instanceof FeedError && err.status === 401) token = undefined
      throw err
    }
  }

  async function snapshot (): Promise<void> {
    const ep = await discover()
    const body = await authorized(async (bearer) => await getJson(ep.snapshot, { headers: { authorization: `Bearer ${bearer}` } }, 'the revocation snapshot'))
    const { epoch, entries, cursor: c } = body
    if (typeof epoch !== 'string' || !Array.isArray(entries) || typeof c !== 'string') throw new FeedError('the revocation snapshot is malformed')
    sink.replace(epoch, entries as string[])
    cursor = c
  }

  /**
   * Follows the stream until it ends. Returns 'again' to reconnect at once (the server
   * ended it on purpose: the token's lifetime), 'reload' to take a snapshot first.
   */
  async function follow (): Promise<'again' | 'reload'> {
    const ep = await discover()
    const ctrl = new AbortController()
    controller = ctrl
    const url = new URL(ep.stream)
    if (cursor !== undefined) url.searchParams.set('cursor', cursor)
    const res = await authorized(async (bearer) => {
      const r = await withTimeout(fetch(url, {
        headers: { authorization: `Bearer ${bearer}`, accept: 'text/event-stream' },
        signal: ctrl.signal,
        redirect: 'error'
      }), STEP_TIMEOUT_MS, 'opening the revocation stream')
      if (!r.ok || r.body === null) {
        await r.body?.cancel()
        throw new FeedError(`the revocation stream: HTTP ${r.status}`, r.status)
      }
      return r
    })
    let watchdog: NodeJS.Timeout | undefined
    let silenceMs = STEP_TIMEOUT_MS
    const arm = (): void => {
      clearTimeout(watchdog)
      watchdog = setTimeout(() => ctrl.abort(new Error('the revocation stream went silent')), silenceMs)
      watchdog.unref()
    }
    arm()
    try {
      for await (const e of readEvents(res.body!)) {
        arm()
        if (e.event === 'revocation') {
          sink.add(e.data)
          if (e.id !== undefined) cursor = e.id
        } else if (e.event === 'hello' || e.event === 'heartbeat') {
          const info = JSON.parse(e.data) as { epoch?: unknown, heartbeat_ms?: unknown }
          if (typeof info.heartbeat_ms === 'number' && info.heartbeat_ms > 0) {
            silenceMs = info.heartbeat_ms * MISSED_HEARTBEATS
            arm()
          }
          // Another epoch: the store was reset while we were away; only a snapshot is right.
          if (typeof info.epoch === 'string' && info.epoch !== sink.epoch) return 'reload'
          if (e.event === 'hello') {
            failures = 0
            sink.resumed()
          }
        } else if (e.event === 'reset') {
          return 'reload'
        } else if (e.event === 'end') {
          return 'again'
        }
      }
      throw new FeedError('the revocation stream ended')
    } finally {
      clearTimeout(watchdog)
      ctrl.abort()
    }
  }

  async function run (): Promise<void> {
    let needSnapshot = true
    while (!closed) {
      try {
        if (needSnapshot || cursor === undefined) {
          await snapshot()
          needSnapshot = false
        }
        const next = await follow()
        if (next === 'reload') needSnapshot = true
      } catch (err) {
        if (closed) return
        sink.stale(err instanceof Error ? err.message : 'the revocation feed failed')
        failures++
        const delay = retryDelay(failures)
        sink.failed(err, failures, delay)
        // The metadata may have moved (another issuer deployment): find it again.
        if (!(err instanceof FeedError) || err.status === undefined || err.status === 404) endpoints = undefined
        await new Promise<void>((resolve) => {
          retryTimer = setTimeout(resolve, delay)
          retryTimer.unref()
        })
      }
    }
  }

  return {
    start (s) {
      sink = s
      void run()
    },
    close () {
      closed = true
      clearTimeout(retryTimer)
      controller?.abort()
    }
  }
}
