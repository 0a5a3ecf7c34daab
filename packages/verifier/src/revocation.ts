// The revocation feed, reader side (docs/revocation-protocol.md): keeps the
// denylist in process memory, follows it through Redis pub/sub (or an
// in-process source), and answers "is this token revoked?" with two Map
// lookups and no I/O.
//
// Redis is optional: ioredis is imported lazily, only when a Redis URL is
// given, so the root export stays free of it.
import { randomBytes } from 'node:crypto'
import { TokenError } from './errors.js'

/**
 * An in-process revocation feed, e.g. the auth center's memory store in the
 * same process. `load()` returns the current epoch (`<createdAtMs>:<random>`)
 * and every entry as `<field>=<value>`; `subscribe` delivers the same strings
 * for each new revocation and returns an unsubscribe function.
 */
export interface RevocationSource {
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
 * The part of an ioredis client the verifier uses: an ioredis `Redis` (or
 * `Cluster`) you own. Reads go through it; `duplicate()` makes the
 * subscriber connection, which the verifier closes. Yours is never closed.
 */
export interface RedisLike {
  duplicate: (override?: Record<string, unknown>) => RedisSubscriberLike
  get: (key: string) => Promise<string | null>
  set: (key: string, value: string, nx: 'NX') => Promise<'OK' | null>
  hscan: (key: string, cursor: string, countToken: 'COUNT', count: number) => Promise<[cursor: string, elements: string[]]>
}

/** The `revocation` option of `createVerifier`. */
export interface RevocationOptions {
  /** A `redis://` or `rediss://` URL (the verifier opens and closes its connections), or an ioredis client you own. */
  redis?: string | RedisLike
  /** An in-process feed instead of Redis. Exactly one of `redis` and `source`. */
  source?: RevocationSource
  /** Key and channel prefix; must match the auth center's. Default `'ac:'`. */
  prefix?: string
  /** What to do without a fresh list: `'closed'` (default) refuses after `maxStaleness`; `'open'` keeps using the last list. */
  failMode?: 'closed' | 'open'
  /** How long (ms) a stale list is still used in `'closed'` mode before tokens are refused with 503. Default 30000. */
  maxStaleness?: number
  /** How often (ms) the verifier checks the store epoch and pings its subscriber connection (Redis only). Default 5000. */
  epochCheckInterval?: number
  /** Where state changes are logged. Default: a minimal `console.warn` logger. */
  logger?: RevocationLogger
}

/** What `verify.revocation` shows, for monitoring and benchmarks. */
export interface RevocationState {
  /** Entries in memory (sessions + users). */
  readonly size: number
  /** `true` while the list is known to be complete (loaded and connected). */
  readonly fresh: boolean
  /** The store epoch in use, `undefined` before the first load. */
  readonly epoch: string | undefined
  /** Calls `listener(field)` (e.g. `'s:<sid>'`) after each revocation from the live feed is applied. Returns an unsubscribe function. */
  onRevocation: (listener: (field: string) => void) => () => void
}

export interface ResolvedRevocationOptions {
  readonly redis: string | RedisLike | undefined
  readonly source: RevocationSource | undefined
  readonly prefix: string
  readonly failMode: 'closed' | 'open'
  readonly maxStaleness: number
  readonly epochCheckInterval: number
  readonly logger: RevocationLogger
}

/** The facts the revocation check needs about a verified token. */
export interface RevocationSubject {
  readonly sub: string
  readonly sid?: string | undefined
  readonly claims: Record<string, unknown>
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

/** Checks the `revocation` option; throws a `TypeError` naming the bad field. */
export function resolveRevocationOptions (value: unknown): ResolvedRevocationOptions | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) throw new TypeError('"revocation" must be an object')
  const { redis, source, prefix, failMode, logger } = value
  if ((redis === undefined) === (source === undefined)) {
    throw new TypeError('"revocation" needs exactly one of "redis" (a URL or an ioredis client) and "source"')
  }
  if (typeof redis === 'string') {
    let url: URL | undefined
    try { url = new URL(redis) } catch {}
    if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
      throw new TypeError('"revocation.redis" must be a redis:// or rediss:// URL, or an ioredis client')
    }
  } else if (redis !== undefined) {
    const client = redis as Partial<Record<string, unknown>>
    if (!isObject(redis) || !['duplicate', 'get', 'set', 'hscan'].every((name) => typeof client[name] === 'function')) {
      throw new TypeError('"revocation.redis" must be a redis:// or rediss:// URL, or an ioredis client')
    }
  }
  if (source !== undefined && (!isObject(source) || typeof source.load !== 'function' || typeof source.subscribe !== 'function')) {
    throw new TypeError('"revocation.source" must be an object with load() and subscribe(listener)')
  }
  if (prefix !== undefined && typeof prefix !== 'string') throw new TypeError('"revocation.prefix" must be a string')
  if (failMode !== undefined && failMode !== 'closed' && failMode !== 'open') {
    throw new TypeError('"revocation.failMode" must be "closed" or "open"')
  }
  if (logger !== undefined && (!isObject(logger) || !['info', 'warn', 'error'].every((name) => typeof logger[name] === 'function'))) {
    throw new TypeError('"revocation.logger" must have info, warn and error methods')
  }
  return Object.freeze({
    redis: redis as string | RedisLike | undefined,
    source: source as RevocationSource | undefined,
    prefix: prefix ?? 'ac:',
    failMode: failMode ?? 'closed',
    maxStaleness: milliseconds(value.maxStaleness, 'maxStaleness', 30_000, 0),
    epochCheckInterval: milliseconds(value.epochCheckInterval, 'epochCheckInterval', 5_000, 1),
    logger: (logger as RevocationLogger | undefined) ?? consoleLogger
  })
}

// Session expiries are kept as whole seconds after this base (rounded up),
// which fit V8 small integers: a Map<string, number> of 1,000,000 sessions
// then holds no boxed doubles.
const BASE_MS = Date.UTC(2025, 0, 1)
const toSeconds = (ms: number): number => Math.ceil((ms - BASE_MS) / 1000)

interface UserEntry {
  readonly revokedAtMs: number
  /** Seconds after BASE_MS, like session expiries. */
  readonly expires: number
  readonly exceptSid: string | undefined
}

/** A list being loaded, swapped in by `#install`. */
interface LoadingList {
  readonly sessions: Map<string, number>
  readonly users: Map<string, UserEntry>
  /** Adds a hash field and its value. */
  put: (field: string, value: string) => void
  /** Adds a `<field>=<value>` string. */
  putMessage: (message: string) => void
  malformed: () => number
}

const DIGITS = /^\d{1,16}$/
// Each network step of a reload (SUBSCRIBE, GET, one HSCAN page) must answer within this.
const STEP_TIMEOUT_MS = 5_000
const SWEEP_INTERVAL_MS = 60_000
const HSCAN_COUNT = 1000
const MAX_RETRY_MS = 5_000

/**
 * A flat copy of a substring. V8 keeps a substring of 13+ characters as a view
 * that holds its whole parent alive (here the message or hash field); a Map of
 * 1,000,000 such keys would keep every parent. The latin1 round trip copies
 * (ids are ASCII); anything else stays as is, so no id is ever altered.
 */
function flat (value: string): string {
  if (value.length < 13) return value
  const copy = Buffer.from(value, 'latin1').toString('latin1')
  return copy === value ? copy : value
}

/** `<revokedAtMs>:<expiresAtMs>[:<exceptSid>]`, or `undefined` when malformed. */
function parseValue (value: string): { revokedAtMs: number, expiresAtMs: number, exceptSid: string | undefined } | undefined {
  const c1 = value.indexOf(':')
  if (c1 === -1) return undefined
  const c2 = value.indexOf(':', c1 + 1)
  const revoked = value.slice(0, c1)
  const expires = c2 === -1 ? value.slice(c1 + 1) : value.slice(c1 + 1, c2)
  if (!DIGITS.test(revoked) || !DIGITS.test(expires)) return undefined
  const except = c2 === -1 ? '' : value.slice(c2 + 1)
  return { revokedAtMs: Number(revoked), expiresAtMs: Number(expires), exceptSid: except === '' ? undefined : except }
}

function parseEpoch (epoch: string): number {
  const colon = epoch.indexOf(':')
  const created = colon === -1 ? epoch : epoch.slice(0, colon)
  if (!DIGITS.test(created)) throw new Error('the store epoch is malformed (expected "<createdAtMs>:<random>")')
  return Number(created)
}

function withTimeout<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function errorInfo (err: unknown): Record<string, unknown> {
  return { err: err instanceof Error ? err.message : String(err) }
}

/**
 * The in-memory denylist and the connection that keeps it fresh. One per
 * verifier; `check` is the synchronous hot path.
 */
export class RevocationList {
  readonly #opts: ResolvedRevocationOptions
  readonly #log: RevocationLogger
  readonly #denyKey: string
  readonly #epochKey: string
  readonly #channel: string
  readonly #failClosed: boolean

  // The list.
  #sessions = new Map<string, number>()
  #users = new Map<string, UserEntry>()
  #epoch: string | undefined
  #epochMs = 0

  // Freshness.
  #loaded = false
  #fresh = false
  #staleSince: number
  #failClosedLogged = false
  #failClosedTimer: NodeJS.Timeout | undefined
  #closed = false

  // Reloading: a reload commits only if #generation is still the one it started with
  // (a disconnect or a newer reload bumps it); messages that arrive meanwhile are
  // applied to the current list and kept in #buffer to be applied again after the swap.
  #generation = 0
  #reloading = false
  #buffer: string[] | undefined
  #failures = 0
  #retryTimer: NodeJS.Timeout | undefined
  #malformedLogged = false
  #startupErrorLogged = false

  // Connections.
  #cmd: RedisLike | undefined
  #ownCmd: { disconnect: () => void } | undefined
  #sub: RedisSubscriberLike | undefined
  #unsubscribe: (() => void) | undefined
  #epochTimer: NodeJS.Timeout | undefined
  #checking = false
  readonly #sweepTimer: NodeJS.Timeout

  // First load.
  readonly #ready: Promise<void>
  #resolveReady!: () => void
  #rejectReady!: (err: Error) => void
  // Resolves on the first load, on close, or maxStaleness after start, whichever comes first.
  readonly #startupGate: Promise<void>
  #openGate!: () => void
  readonly #startupDeadline: number
  #startupTimer: NodeJS.Timeout | undefined

  readonly #listeners = new Set<(field: string) => void>()

  /** Public view for monitoring and benchmarks. */
  readonly state: RevocationState

  constructor (opts: ResolvedRevocationOptions) {
    this.#opts = opts
    this.#log = opts.logger
    this.#denyKey = `${opts.prefix}deny`
    this.#epochKey = `${opts.prefix}epoch`
    this.#channel = `${opts.prefix}revocations`
    this.#failClosed = opts.failMode === 'closed'
    const now = Date.now()
    this.#staleSince = now
    this.#startupDeadline = now + opts.maxStaleness

    this.#ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve
      this.#rejectReady = reject
    })
    this.#ready.catch(() => {}) // a rejection nobody awaits is not a crash
    this.#startupGate = new Promise<void>((resolve) => { this.#openGate = resolve })
    if (this.#failClosed) {
      this.#startupTimer = setTimeout(() => {
        this.#openStartupGate()
        this.#logFailClosed(Date.now())
      }, opts.maxStaleness)
      this.#startupTimer.unref()
    }
    this.#sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS)
    this.#sweepTimer.unref()

    const self = this
    this.state = {
      get size () { return self.#sessions.size + self.#users.size },
      get fresh () { return self.#fresh },
      get epoch () { return self.#epoch },
      onRevocation (listener) {
        if (typeof listener !== 'function') throw new TypeError('the listener must be a function')
        self.#listeners.add(listener)
        return () => { self.#listeners.delete(listener) }
      }
    }

    if (opts.source !== undefined) this.#reloadSource()
    else void this.#startRedis()
  }

  /** Resolves after the first complete load; rejects if the verifier is closed first or ioredis cannot be loaded. */
  ready (): Promise<void> {
    return this.#ready
  }

  /**
   * A promise to await before `check` while the first load is pending in
   * `closed` mode (at most until `maxStaleness` after start); `undefined` when
   * there is nothing to wait for (the usual case).
   */
  pending (now: number): Promise<void> | undefined {
    if (this.#loaded || !this.#failClosed || this.#closed || now >= this.#startupDeadline) return undefined
    return this.#startupGate
  }

  /** Throws `TOKEN_REVOKED` for a revoked token, `REVOCATION_UNAVAILABLE` when failing closed. No I/O. */
  check (auth: RevocationSubject, now: number): void {
    const iatMs = (auth.claims.iat as number) * 1000
    if (iatMs < this.#epochMs) {
      throw new TokenError('TOKEN_REVOKED', 'the token was issued before the revocation store was reset')
    }
    const nowSeconds = (now - BASE_MS) / 1000
    const { sid } = auth
    if (sid !== undefined) {
      const expires = this.#sessions.get(sid)
      if (expires !== undefined && expires > nowSeconds) throw new TokenError('TOKEN_REVOKED', 'the session was revoked')
    }
    const user = this.#users.get(auth.sub)
    if (user !== undefined && user.expires > nowSeconds && iatMs < user.revokedAtMs + 1000 &&
      (user.exceptSid === undefined || sid !== user.exceptSid)) {
      throw new TokenError('TOKEN_REVOKED', 'the user\'s sessions were revoked')
    }
    if (!this.#fresh && this.#failClosed && (!this.#loaded || now - this.#staleSince > this.#opts.maxStaleness)) {
      this.#logFailClosed(now)
      throw new TokenError('REVOCATION_UNAVAILABLE', 'the revocation list is unavailable')
    }
  }

  /** Drops entries whose tokens have all expired. Runs on an unref'd interval. */
  sweep (now = Date.now()): void {
    const nowSeconds = (now - BASE_MS) / 1000
    for (const [sid, expires] of this.#sessions) if (expires <= nowSeconds) this.#sessions.delete(sid)
    for (const [sub, entry] of this.#users) if (entry.expires <= nowSeconds) this.#users.delete(sub)
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#generation++
    clearInterval(this.#sweepTimer)
    clearInterval(this.#epochTimer)
    clearTimeout(this.#retryTimer)
    clearTimeout(this.#failClosedTimer)
    this.#openStartupGate()
    this.#rejectReady(new Error('the verifier was closed before the revocation list was loaded'))
    this.#listeners.clear()
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = undefined
    try { unsubscribe?.() } catch {}
    // disconnect(), not quit(): quit() would wait for a Redis that may be down.
    this.#sub?.disconnect()
    this.#ownCmd?.disconnect()
  }

  // ---- the list ----------------------------------------------------------

  /** Adds one entry to the given maps; `false` when malformed. */
  #put (sessions: Map<string, number>, users: Map<string, UserEntry>, field: string, value: string, nowSeconds: number): boolean {
    const parsed = parseValue(value)
    if (parsed === undefined || field.length < 3 || field.charCodeAt(1) !== 58 /* : */) return false
    const kind = field.charCodeAt(0)
    if (kind !== 115 /* s */ && kind !== 117 /* u */) return false
    const expires = toSeconds(parsed.expiresAtMs)
    if (expires <= nowSeconds) return true // already harmless
    if (kind === 115) {
      const id = flat(field.slice(2))
      const previous = sessions.get(id)
      if (previous === undefined || previous < expires) sessions.set(id, expires)
    } else {
      const id = flat(field.slice(2))
      // A newer user-level revocation replaces an older one (and its exceptSid), never the reverse.
      const previous = users.get(id)
      if (previous === undefined || previous.revokedAtMs <= parsed.revokedAtMs) {
        users.set(id, { revokedAtMs: parsed.revokedAtMs, expires, exceptSid: parsed.exceptSid === undefined ? undefined : flat(parsed.exceptSid) })
      }
    }
    return true
  }

  /** Applies a `<field>=<value>` string; returns the field, or `undefined` when malformed. */
  #putMessage (sessions: Map<string, number>, users: Map<string, UserEntry>, message: string, nowSeconds: number): string | undefined {
    // The field may itself contain '=' (a user id); the value never starts with anything but digits,
    // so take the first '=' whose remainder is a valid value.
    for (let eq = message.indexOf('='); eq !== -1; eq = message.indexOf('=', eq + 1)) {
      const field = message.slice(0, eq)
      if (this.#put(sessions, users, field, message.slice(eq + 1), nowSeconds)) return field
    }
    return undefined
  }

  #malformed (count: number): void {
    if (count === 0 || this.#malformedLogged) return
    this.#malformedLogged = true
    this.#log.warn({ count }, 'revocation: ignored malformed denylist entries (further ones are not logged)')
  }

  #onMessage (message: unknown): void {
    if (this.#closed || typeof message !== 'string') return
    const field = this.#putMessage(this.#sessions, this.#users, message, (Date.now() - BASE_MS) / 1000)
    if (field === undefined) return this.#malformed(1)
    this.#buffer?.push(message)
    for (const listener of this.#listeners) {
      try { listener(field) } catch {}
    }
  }

  /** A new, empty list to load into; `put` adds a hash field and value, `putMessage` a `<field>=<value>` string. */
  #newList (): LoadingList {
    const nowSeconds = (Date.now() - BASE_MS) / 1000
    const sessions = new Map<string, number>()
    const users = new Map<string, UserEntry>()
    let malformed = 0
    return {
      sessions,
      users,
      put: (field, value) => { if (!this.#put(sessions, users, field, value, nowSeconds)) malformed++ },
      putMessage: (message) => { if (this.#putMessage(sessions, users, message, nowSeconds) === undefined) malformed++ },
      malformed: () => malformed
    }
  }

  /** Swaps in a freshly loaded list, re-applies the messages that arrived meanwhile, and marks it fresh. */
  #install (epoch: string, list: LoadingList): void {
    const epochMs = parseEpoch(epoch)
    for (const message of this.#buffer ?? []) list.putMessage(message)
    this.#buffer = undefined
    this.#sessions = list.sessions
    this.#users = list.users
    this.#malformed(list.malformed())
    const previous = this.#epoch
    this.#epoch = epoch
    this.#epochMs = epochMs
    if (previous !== undefined && previous !== epoch) {
      this.#log.warn({ epochCreatedAt: new Date(epochMs).toISOString() },
        'revocation: the store epoch changed (the store was reset); access tokens issued before it are refused')
    }
    this.#markFresh()
  }

  // ---- freshness ---------------------------------------------------------

  #markFresh (): void {
    const now = Date.now()
    const wasLoaded = this.#loaded
    const wasFresh = this.#fresh
    this.#loaded = true
    this.#fresh = true
    this.#failures = 0
    this.#failClosedLogged = false
    clearTimeout(this.#failClosedTimer)
    this.#failClosedTimer = undefined
    const entries = this.#sessions.size + this.#users.size
    if (!wasLoaded) {
      this.#log.info({ entries, failMode: this.#opts.failMode }, 'revocation: denylist loaded, following the feed')
      this.#openStartupGate()
      this.#resolveReady()
    } else if (!wasFresh) {
      this.#log.info({ entries, staleMs: now - this.#staleSince }, 'revocation: denylist reloaded, fresh again')
    }
  }

  #markStale (reason: string): void {
    if (this.#closed || !this.#fresh) return
    this.#fresh = false
    this.#staleSince = Date.now()
    const { failMode, maxStaleness } = this.#opts
    if (this.#failClosed) {
      this.#log.warn({ reason, failMode, maxStaleness },
        'revocation: denylist is stale; still using the last list, tokens will be refused (503) if it is not reloaded within maxStaleness')
      this.#failClosedTimer = setTimeout(() => this.#logFailClosed(Date.now()), maxStaleness)
      this.#failClosedTimer.unref()
    } else {
      this.#log.warn({ reason, failMode }, 'revocation: denylist is stale; failing open: the last list stays in use until it is reloaded')
    }
  }

  #logFailClosed (now: number): void {
    if (this.#failClosedLogged || this.#fresh || this.#closed) return
    if (this.#loaded && now - this.#staleSince <= this.#opts.maxStaleness) return
    this.#failClosedLogged = true
    this.#log.error({ staleMs: now - this.#staleSince, maxStaleness: this.#opts.maxStaleness },
      'revocation: failing closed: every token is refused with 503 REVOCATION_UNAVAILABLE until the denylist reloads')
  }

  #openStartupGate (): void {
    clearTimeout(this.#startupTimer)
    this.#startupTimer = undefined
    this.#openGate()
  }

  #scheduleRetry (err: unknown, retry: () => void): void {
    this.#failures++
    const delay = Math.min(100 * 2 ** (this.#failures - 1), MAX_RETRY_MS)
    this.#log.warn({ ...errorInfo(err), attempt: this.#failures, retryInMs: delay }, 'revocation: loading the denylist failed')
    clearTimeout(this.#retryTimer)
    this.#retryTimer = setTimeout(retry, delay)
    this.#retryTimer.unref()
  }

  // ---- in-process source -------------------------------------------------

  #reloadSource (): void {
    const source = this.#opts.source!
    const generation = ++this.#generation
    this.#buffer = []
    const run = async (): Promise<void> => {
      this.#unsubscribe ??= source.subscribe((message) => this.#onMessage(message))
      const { epoch, entries } = await withTimeout(Promise.resolve(source.load()), STEP_TIMEOUT_MS, 'source.load()')
      if (generation !== this.#generation || this.#closed) return
      if (typeof epoch !== 'string' || !Array.isArray(entries)) throw new Error('source.load() must return { epoch: string, entries: string[] }')
      const list = this.#newList()
      for (const entry of entries) if (typeof entry === 'string') list.putMessage(entry)
      this.#install(epoch, list)
    }
    run().catch((err: unknown) => {
      if (generation !== this.#generation || this.#closed) return
      this.#buffer = undefined
      this.#scheduleRetry(err, () => this.#reloadSource())
    })
  }

  // ---- Redis -------------------------------------------------------------

  async #startRedis (): Promise<void> {
    const { redis } = this.#opts
    let cmd: RedisLike
    if (typeof redis === 'string') {
      let Redis: new (url: string, options: Record<string, unknown>) => RedisLike & { disconnect: () => void, on: (event: string, listener: (...args: any[]) => void) => unknown }
      try {
        const mod = await import('ioredis') as unknown as { Redis?: unknown, default?: { Redis?: unknown } }
        Redis = (mod.Redis ?? mod.default?.Redis ?? mod.default) as typeof Redis
        if (typeof Redis !== 'function') throw new Error('ioredis has no Redis export')
      } catch (err) {
        const error = new Error('revocation.redis is a URL but ioredis cannot be loaded: install ioredis (an optional peer dependency of @authcenter/verifier)', { cause: err })
        this.#log.error(errorInfo(err), error.message)
        this.#rejectReady(error)
        return
      }
      if (this.#closed) return
      const own = new Redis(redis, {
        connectionName: 'authcenter-verifier',
        maxRetriesPerRequest: 1,
        retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000)
      })
      own.on('error', () => {}) // its state is followed through the subscriber connection
      this.#ownCmd = own
      cmd = own
    } else {
      cmd = redis!
    }
    this.#cmd = cmd
    const sub = cmd.duplicate({ lazyConnect: true, autoResubscribe: false, enableOfflineQueue: true })
    this.#sub = sub
    sub.on('message', (channel: unknown, message: unknown) => {
      if (channel === this.#channel) this.#onMessage(message)
    })
    sub.on('ready', () => this.#onReady())
    sub.on('close', () => this.#onDown('the Redis subscriber connection closed'))
    sub.on('end', () => {
      this.#onDown('the Redis subscriber connection ended')
      if (this.#closed) return
      // The client gave up reconnecting (its retryStrategy); keep trying, slowly.
      const timer = setTimeout(() => { if (!this.#closed) sub.connect().catch(() => {}) }, 1000)
      timer.unref()
    })
    sub.on('error', (err: unknown) => {
      if (this.#closed) return
      if (this.#fresh || !this.#startupErrorLogged) {
        this.#startupErrorLogged ||= !this.#loaded
        this.#log.warn(errorInfo(err), 'revocation: Redis subscriber connection error')
      }
      if (sub.status !== 'ready') this.#onDown('Redis subscriber connection error')
    })
    this.#epochTimer = setInterval(() => { void this.#checkEpoch() }, this.#opts.epochCheckInterval)
    this.#epochTimer.unref()
    // Errors surface as 'error'/'close' events and ioredis keeps reconnecting.
    sub.connect().catch(() => {})
  }

  #onDown (reason: string): void {
    if (this.#closed) return
    this.#generation++ // an in-flight reload may have missed messages: discard it
    this.#reloading = false
    this.#buffer = undefined
    clearTimeout(this.#retryTimer)
    this.#markStale(reason)
  }

  #onReady (): void {
    if (this.#closed) return
    this.#reloadRedis()
  }

  /** SUBSCRIBE (buffering), epoch (SET NX if missing), HSCAN the whole hash, swap, apply the buffer. */
  #reloadRedis (): void {
    const cmd = this.#cmd!
    const sub = this.#sub!
    const generation = ++this.#generation
    clearTimeout(this.#retryTimer)
    this.#reloading = true
    this.#buffer = []
    const current = (): boolean => generation === this.#generation && !this.#closed
    const run = async (): Promise<void> => {
      // Subscribed (confirmed by Redis) before anything is read, so no revocation
      // published after the read can be missed. SUBSCRIBE again on an already
      // subscribed connection is harmless.
      await withTimeout(sub.subscribe(this.#channel), STEP_TIMEOUT_MS, 'SUBSCRIBE')
      if (!current()) return
      const epoch = await withTimeout(this.#readEpoch(cmd), STEP_TIMEOUT_MS, 'reading the epoch')
      const list = this.#newList()
      let cursor = '0'
      do {
        if (!current()) return
        const [next, elements] = await withTimeout(cmd.hscan(this.#denyKey, cursor, 'COUNT', HSCAN_COUNT), STEP_TIMEOUT_MS, 'HSCAN')
        for (let i = 0; i + 1 < elements.length; i += 2) list.put(elements[i]!, elements[i + 1]!)
        cursor = next
      } while (cursor !== '0')
      if (!current()) return
      this.#install(epoch, list)
      this.#reloading = false
    }
    run().catch((err: unknown) => {
      if (!current()) return
      this.#reloading = false
      this.#buffer = undefined
      this.#markStale('loading the denylist failed')
      this.#scheduleRetry(err, () => {
        if (current() && sub.status === 'ready') this.#reloadRedis()
      })
    })
  }

  async #readEpoch (cmd: RedisLike): Promise<string> {
    const existing = await cmd.get(this.#epochKey)
    if (existing !== null) return existing
    // Floored to the second, as the auth center does: `iat` has one-second resolution, so an
    // epoch at .700 would otherwise refuse a token issued at .800 of the same second.
    const created = `${Math.floor(Date.now() / 1000) * 1000}:${randomBytes(8).toString('hex')}`
    if (await cmd.set(this.#epochKey, created, 'NX') === 'OK') {
      this.#log.info({}, 'revocation: created the store epoch (it was missing)')
      return created
    }
    const epoch = await cmd.get(this.#epochKey)
    if (epoch === null) throw new Error('the store epoch vanished while it was read')
    return epoch
  }

  /**
   * Periodic: the epoch key is still the one loaded (a FLUSHALL that the
   * connections survived would otherwise go unnoticed), and the subscriber
   * connection still answers (a silently dead connection would otherwise
   * look subscribed). Reloads when stale and connected.
   */
  async #checkEpoch (): Promise<void> {
    const sub = this.#sub
    const cmd = this.#cmd
    if (this.#closed || this.#checking || this.#reloading || sub === undefined || cmd === undefined || sub.status !== 'ready') return
    if (!this.#fresh) return // a reload is pending: on 'ready' or on its retry timer
    this.#checking = true
    const generation = this.#generation
    const timeout = Math.min(this.#opts.epochCheckInterval, STEP_TIMEOUT_MS)
    try {
      const [pong, epoch] = await Promise.allSettled([
        withTimeout(sub.ping(), timeout, 'PING'),
        withTimeout(cmd.get(this.#epochKey), timeout, 'GET epoch')
      ])
      if (generation !== this.#generation || this.#closed) return
      if (pong.status === 'rejected') {
        this.#markStale('the Redis subscriber connection does not answer')
        this.#generation++
        sub.disconnect(true) // reconnects; 'ready' reloads
        return
      }
      if (epoch.status === 'fulfilled' && epoch.value !== this.#epoch) {
        this.#markStale(epoch.value === null ? 'the store epoch is missing (store reset)' : 'the store epoch changed')
        this.#reloadRedis()
      }
    } finally {
      this.#checking = false
    }
  }
}
