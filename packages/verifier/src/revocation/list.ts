// The revocation list (docs/revocation-protocol.md): the denylist in process memory,
// the store epoch and the fail-closed state, fed by one transport (source.ts). `check`
// answers "is this token revoked?" with two Map lookups and no I/O.
import { TokenError } from '../errors.js'
import { BASE_MS, errorInfo, flat, parseEpoch, parseValue, toSeconds } from './entries.js'
import type { ResolvedRevocationOptions, RevocationLogger } from './options.js'
import type { RevocationSink, RevocationSource } from './source.js'

/** What `verify.revocation` shows, for monitoring and benchmarks. */
export interface RevocationState {
  /** Entries in memory (sessions + users). */
  readonly size: number
  /** `true` while the list is known to be complete (loaded and connected). */
  readonly fresh: boolean
  /** Since when (ms) the list has not been known complete; `undefined` while fresh. For a feed-staleness gauge. */
  readonly staleSince: number | undefined
  /** The store epoch in use, `undefined` before the first load. */
  readonly epoch: string | undefined
  /** Complete loads so far (the first one, and each reload after a reset or a lost cursor; a resumed stream is not one). */
  readonly loads: number
  /** Calls `listener(field)` (e.g. `'s:<sid>'`) after each revocation from the live feed is applied. Returns an unsubscribe function. */
  onRevocation: (listener: (field: string) => void) => () => void
}

/** The facts the revocation check needs about a verified token. */
export interface RevocationSubject {
  readonly sub: string
  readonly sid?: string | undefined
  readonly claims: Record<string, unknown>
}

interface UserEntry {
  readonly revokedAtMs: number
  /** Seconds after BASE_MS, like session expiries. */
  readonly expires: number
  readonly exceptSid: string | undefined
}

const SWEEP_INTERVAL_MS = 60_000

/**
 * A token's issue time in ms: `iat` is a NumericDate with millisecond decimals (the
 * auth center writes `1764280000.123`); an integer `iat` (another issuer) is its second.
 */
const issuedAtMs = (iat: number): number => Math.round(iat * 1000)

/**
 * The in-memory denylist and its freshness. One per verifier; `check` is the
 * synchronous hot path. The transport (HTTP feed, Redis, in process) writes into it
 * through the RevocationSink methods.
 */
export class RevocationList implements RevocationSink {
  readonly #opts: ResolvedRevocationOptions
  readonly log: RevocationLogger
  readonly #failClosed: boolean
  readonly #source: RevocationSource

  #sessions = new Map<string, number>()
  #users = new Map<string, UserEntry>()
  #epoch: string | undefined
  #epochMs = 0
  #loads = 0

  #loaded = false
  #fresh = false
  #staleSince: number
  #failClosedLogged = false
  #failClosedTimer: NodeJS.Timeout | undefined
  #closed = false
  #malformedLogged = false
  readonly #sweepTimer: NodeJS.Timeout

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

  constructor (opts: ResolvedRevocationOptions, source: RevocationSource) {
    this.#opts = opts
    this.log = opts.logger
    this.#failClosed = opts.failMode === 'closed'
    this.#source = source
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
      get staleSince () { return self.#fresh ? undefined : self.#staleSince },
      get epoch () { return self.#epoch },
      get loads () { return self.#loads },
      onRevocation (listener) {
        if (typeof listener !== 'function') throw new TypeError('the listener must be a function')
        self.#listeners.add(listener)
        return () => { self.#listeners.delete(listener) }
      }
    }
    source.start(this)
  }

  get epoch (): string | undefined { return this.#epoch }
  get closed (): boolean { return this.#closed }

  /** Resolves after the first complete load; rejects if the verifier is closed first or the transport cannot work. */
  ready (): Promise<void> {
    return this.#ready
  }

  /**
   * A promise to await before `check` while the first load is pending in `closed`
   * mode (at most until `maxStaleness` after start); `undefined` when there is
   * nothing to wait for (the usual case).
   */
  pending (now: number): Promise<void> | undefined {
    if (this.#loaded || !this.#failClosed || this.#closed || now >= this.#startupDeadline) return undefined
    return this.#startupGate
  }

  /**
   * Throws `TOKEN_REVOKED` for a revoked token, `REVOCATION_UNAVAILABLE` when failing
   * closed. No I/O. Issue times compare in milliseconds: before the epoch is revoked
   * (`iatMs < epochMs`), and a user entry covers `iatMs <= revokedAtMs`.
   */
  check (auth: RevocationSubject, now: number): void {
    const iatMs = issuedAtMs(auth.claims.iat as number)
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
    if (user !== undefined && user.expires > nowSeconds && iatMs <= user.revokedAtMs &&
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
    clearInterval(this.#sweepTimer)
    clearTimeout(this.#failClosedTimer)
    this.#openStartupGate()
    this.#rejectReady(new Error('the verifier was closed before the revocation list was loaded'))
    this.#listeners.clear()
    try { this.#source.close() } catch {}
  }

  // ---- the sink (source.ts) ----------------------------------------------

  replace (epoch: string, entries: Iterable<string>): void {
    if (this.#closed) return
    const epochMs = parseEpoch(epoch)
    const nowSeconds = (Date.now() - BASE_MS) / 1000
    const sessions = new Map<string, number>()
    const users = new Map<string, UserEntry>()
    let malformed = 0
    for (const entry of entries) {
      if (typeof entry !== 'string' || putMessage(sessions, users, entry, nowSeconds) === undefined) malformed++
    }
    this.#sessions = sessions
    this.#users = users
    this.#malformed(malformed)
    const previous = this.#epoch
    this.#epoch = epoch
    this.#epochMs = epochMs
    this.#loads++
    if (previous !== undefined && previous !== epoch) {
      this.log.warn({ epochCreatedAt: new Date(epochMs).toISOString() },
        'revocation: the store epoch changed (the store was reset); access tokens issued before it are refused')
    }
    this.#markFresh()
  }

  add (message: string): void {
    if (this.#closed || typeof message !== 'string') return
    const field = putMessage(this.#sessions, this.#users, message, (Date.now() - BASE_MS) / 1000)
    if (field === undefined) return this.#malformed(1)
    for (const listener of this.#listeners) {
      try { listener(field) } catch {}
    }
  }

  resumed (): void {
    if (this.#closed || !this.#loaded) return
    this.#markFresh()
  }

  stale (reason: string): void {
    if (this.#closed || !this.#fresh) return
    this.#fresh = false
    this.#staleSince = Date.now()
    const { failMode, maxStaleness } = this.#opts
    if (this.#failClosed) {
      this.log.warn({ reason, failMode, maxStaleness },
        'revocation: denylist is stale; still using the last list, tokens will be refused (503) if it is not reloaded within maxStaleness')
      this.#failClosedTimer = setTimeout(() => this.#logFailClosed(Date.now()), maxStaleness)
      this.#failClosedTimer.unref()
    } else {
      this.log.warn({ reason, failMode }, 'revocation: denylist is stale; failing open: the last list stays in use until it is reloaded')
    }
  }

  failed (err: unknown, attempt: number, retryInMs: number): void {
    if (this.#closed) return
    this.log.warn({ ...errorInfo(err), attempt, retryInMs }, 'revocation: following the feed failed')
  }

  fatal (err: Error): void {
    this.log.error(errorInfo(err.cause ?? err), err.message)
    this.#rejectReady(err)
  }

  // ---- freshness ---------------------------------------------------------

  #markFresh (): void {
    const now = Date.now()
    const wasLoaded = this.#loaded
    const wasFresh = this.#fresh
    this.#loaded = true
    this.#fresh = true
    this.#failClosedLogged = false
    clearTimeout(this.#failClosedTimer)
    this.#failClosedTimer = undefined
    const entries = this.#sessions.size + this.#users.size
    if (!wasLoaded) {
      this.log.info({ entries, failMode: this.#opts.failMode }, 'revocation: denylist loaded, following the feed')
      this.#openStartupGate()
      this.#resolveReady()
    } else if (!wasFresh) {
      this.log.info({ entries, staleMs: now - this.#staleSince }, 'revocation: the denylist is fresh again')
    }
  }

  #logFailClosed (now: number): void {
    if (this.#failClosedLogged || this.#fresh || this.#closed) return
    if (this.#loaded && now - this.#staleSince <= this.#opts.maxStaleness) return
    this.#failClosedLogged = true
    this.log.error({ staleMs: now - this.#staleSince, maxStaleness: this.#opts.maxStaleness },
      'revocation: failing closed: every token is refused with 503 REVOCATION_UNAVAILABLE until the denylist reloads')
  }

  #openStartupGate (): void {
    clearTimeout(this.#startupTimer)
    this.#startupTimer = undefined
    this.#openGate()
  }

  #malformed (count: number): void {
    if (count === 0 || this.#malformedLogged) return
    this.#malformedLogged = true
    this.log.warn({ count }, 'revocation: ignored malformed denylist entries (further ones are not logged)')
  }
}

/** Adds one entry to the given maps; `false` when malformed. */
function put (sessions: Map<string, number>, users: Map<string, UserEntry>, field: string, value: string, nowSeconds: number): boolean {
  const parsed = parseValue(value)
  if (parsed === undefined || field.length < 3 || field.charCodeAt(1) !== 58 /* : */) return false
  const kind = field.charCodeAt(0)
  if (kind !== 115 /* s */ && kind !== 117 /* u */) return false
  const expires = toSeconds(parsed.expiresAtMs)
  if (expires <= nowSeconds) return true // already harmless
  const id = flat(field.slice(2))
  if (kind === 115) {
    const previous = sessions.get(id)
    if (previous === undefined || previous < expires) sessions.set(id, expires)
  } else {
    // A newer user-level revocation replaces an older one (and its exceptSid), never the reverse.
    const previous = users.get(id)
    if (previous === undefined || previous.revokedAtMs <= parsed.revokedAtMs) {
      users.set(id, { revokedAtMs: parsed.revokedAtMs, expires, exceptSid: parsed.exceptSid === undefined ? undefined : flat(parsed.exceptSid) })
    }
  }
  return true
}

/** Applies a `<field>=<value>` string; returns the field, or `undefined` when malformed. */
function putMessage (sessions: Map<string, number>, users: Map<string, UserEntry>, message: string, nowSeconds: number): string | undefined {
  // The field may itself contain '=' (a user id); the value never starts with anything but digits,
  // so take the first '=' whose remainder is a valid value.
  for (let eq = message.indexOf('='); eq !== -1; eq = message.indexOf('=', eq + 1)) {
    const field = message.slice(0, eq)
    if (put(sessions, users, field, message.slice(eq + 1), nowSeconds)) return field
  }
  return undefined
}
