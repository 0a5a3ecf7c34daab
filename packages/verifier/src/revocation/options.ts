import type { RevocationSource } from './source.js'

/**
 * An in-process revocation feed, e.g. the auth center's memory store in the same
 * process. `load()` returns the current epoch (`<createdAtMs>:<random>`) and every
 * entry as `<field>=<value>`; `subscribe` delivers the same strings for each new
 * revocation and returns an unsubscribe function.
 */
export interface InProcessFeed {
  load: () => Promise<{ epoch: string, entries: string[] }>
  subscribe: (listener: (message: string) => void) => () => void
}

/** A pino-like logger (pino, Fastify's `app.log`); called as `logger.warn({ ...fields }, 'message')`. */
export interface RevocationLogger {
  info: (obj: Record<string, unknown>, msg: string) => void
  warn: (obj: Record<string, unknown>, msg: string) => void
  error: (obj: Record<string, unknown>, msg: string) => void
}

/** The part of an ioredis connection the subscriber uses (what `duplicate()` returns). */
export interface RedisSubscriberLike {
  readonly status: string
  on: (event: string, listener: (...args: any[]) => void) => unknown
  connect: () => Promise<void>
  subscribe: (channel: string) => Promise<unknown>
  ping: () => Promise<string>
  disconnect: (reconnect?: boolean) => void
}

/**
 * The part of an ioredis client the verifier uses: an ioredis `Redis` (or `Cluster`)
 * you own. Reads go through it; `duplicate()` makes the subscriber connection, which
 * the verifier closes. Yours is never closed. The verifier never writes to Redis.
 */
export interface RedisLike {
  duplicate: (override?: Record<string, unknown>) => RedisSubscriberLike
  get: (key: string) => Promise<string | null>
  hscan: (key: string, cursor: string, countToken: 'COUNT', count: number) => Promise<[cursor: string, elements: string[]]>
}

/**
 * The `revocation` option of `createVerifier`: how the verifier follows the auth
 * center's revocations (docs/revocation-protocol.md). Exactly one transport:
 * - `clientId` + `clientSecret` (the default way): the auth center's HTTP feed, found
 *   in the issuer's metadata, read with a client-credentials token (scope
 *   `revocations:read`) the verifier gets and renews itself;
 * - `redis`: the auth center's Redis, as a user restricted by an ACL to the feed's keys;
 * - `source`: an in-process feed (`{load, subscribe}`) or a transport of your own.
 *
 * @example
 * createVerifier({ issuer, audience, revocation: { clientId: 'orders', clientSecret: process.env.REVOCATION_CLIENT_SECRET } })
 */
export interface RevocationOptions {
  /** The feed reader's client id (a client allowed `client_credentials` and `revocations:read`). */
  clientId?: string
  /** Its secret (client_secret_basic). */
  clientSecret?: string
  /** Redis instead: a `redis://` or `rediss://` URL (the verifier opens and closes its connections), or an ioredis client you own. */
  redis?: string | RedisLike
  /** An in-process feed, or a transport of your own. */
  source?: InProcessFeed | RevocationSource
  /** Redis only: key and channel prefix; must match the auth center's. Default `'ac:'`. */
  prefix?: string
  /** What to do without a fresh list: `'closed'` (default) refuses after `maxStaleness`; `'open'` keeps using the last list. */
  failMode?: 'closed' | 'open'
  /** How long (ms) a stale list is still used in `'closed'` mode before tokens are refused with 503. Default 30000. */
  maxStaleness?: number
  /** Redis only: how often (ms) the verifier checks the store epoch and pings its subscriber connection. Default 5000. */
  epochCheckInterval?: number
  /** Where state changes are logged. Default: a minimal `console.warn` logger. */
  logger?: RevocationLogger
}

export interface ResolvedRevocationOptions {
  readonly http: { readonly clientId: string, readonly clientSecret: string } | undefined
  readonly redis: string | RedisLike | undefined
  readonly source: InProcessFeed | RevocationSource | undefined
  readonly prefix: string
  readonly failMode: 'closed' | 'open'
  readonly maxStaleness: number
  readonly epochCheckInterval: number
  readonly logger: RevocationLogger
}

function format (obj: Record<string, unknown>, msg: string): string {
  return Object.keys(obj).length === 0 ? `[@authcenter/verifier] ${msg}` : `[@authcenter/verifier] ${msg} ${JSON.stringify(obj)}`
}

const consoleLogger: RevocationLogger = {
  info: (obj, msg) => console.warn(format(obj, msg)),
  warn: (obj, msg) => console.warn(format(obj, msg)),
  error: (obj, msg) => console.error(format(obj, msg))
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function milliseconds (value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new TypeError(`"revocation.${name}" must be a number of milliseconds ${min === 0 ? '>= 0' : `>= ${min}`}`)
  }
  return value
}

const ONE_OF = '"revocation" needs exactly one of "clientId" + "clientSecret" (the auth center\'s feed), "redis" (a URL or an ioredis client) and "source"'

/** Checks the `revocation` option; throws a `TypeError` naming the bad field. */
export function resolveRevocationOptions (value: unknown): ResolvedRevocationOptions | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) throw new TypeError('"revocation" must be an object')
  const { clientId, clientSecret, redis, source, prefix, failMode, logger } = value
  const http = clientId !== undefined || clientSecret !== undefined
  if ([http, redis !== undefined, source !== undefined].filter(Boolean).length !== 1) throw new TypeError(ONE_OF)
  if (http) {
    if (typeof clientId !== 'string' || clientId === '') throw new TypeError('"revocation.clientId" must be a non-empty string')
    if (typeof clientSecret !== 'string' || clientSecret === '') throw new TypeError('"revocation.clientSecret" must be a non-empty string')
  }
  if (typeof redis === 'string') {
    let url: URL | undefined
    try { url = new URL(redis) } catch {}
    if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
      throw new TypeError('"revocation.redis" must be a redis:// or rediss:// URL, or an ioredis client')
    }
  } else if (redis !== undefined) {
    const client = redis as Partial<Record<string, unknown>>
    if (!isObject(redis) || !['duplicate', 'get', 'hscan'].every((name) => typeof client[name] === 'function')) {
      throw new TypeError('"revocation.redis" must be a redis:// or rediss:// URL, or an ioredis client')
    }
  }
  if (source !== undefined && (!isObject(source) ||
    !((typeof source.load === 'function' && typeof source.subscribe === 'function') || (typeof source.start === 'function' && typeof source.close === 'function')))) {
    throw new TypeError('"revocation.source" must be an object with load() and subscribe(listener), or a transport with start(sink) and close()')
  }
  if (prefix !== undefined && typeof prefix !== 'string') throw new TypeError('"revocation.prefix" must be a string')
  if (failMode !== undefined && failMode !== 'closed' && failMode !== 'open') {
    throw new TypeError('"revocation.failMode" must be "closed" or "open"')
  }
  if (logger !== undefined && (!isObject(logger) || !['info', 'warn', 'error'].every((name) => typeof logger[name] === 'function'))) {
    throw new TypeError('"revocation.logger" must have info, warn and error methods')
  }
  return Object.freeze({
    http: http ? Object.freeze({ clientId: clientId as string, clientSecret: clientSecret as string }) : undefined,
    redis: redis as string | RedisLike | undefined,
    source: source as InProcessFeed | RevocationSource | undefined,
    prefix: prefix ?? 'ac:',
    failMode: failMode ?? 'closed',
    maxStaleness: milliseconds(value.maxStaleness, 'maxStaleness', 30_000, 0),
    epochCheckInterval: milliseconds(value.epochCheckInterval, 'epochCheckInterval', 5_000, 1),
    logger: (logger as RevocationLogger | undefined) ?? consoleLogger
  })
}
