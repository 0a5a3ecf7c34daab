import { crossTab, type CrossTab, type TabMessage } from './cross-tab.js'
import { dpopKeyFrom, dpopProof, generateDpopKey, type DpopKey } from './dpop.js'
import { AuthError, clientErrorCodes, endsSession, errorFrom, networkError } from './errors.js'
import { toSession, type Session } from './session.js'
import { memoryStorage, type TokenStorage } from './storage.js'

export interface ClientOptions {
  /** The auth center's issuer URL (`AUTH_ISSUER`), e.g. `https://auth.example.com` or, behind one origin, `location.origin`. */
  issuer: string
  /** The first-party client whose token policy applies; unset means the built-in `default`. */
  clientId?: string
  /** Where the session lives: {@link memoryStorage} (default) or `indexedDBStorage()` to share it between tabs. */
  storage?: TokenStorage
  /**
   * DPoP (RFC 9449): `true` makes a non-extractable ES256 key (kept in `storage`),
   * or pass your own `CryptoKeyPair` (in Node: `dpopKeyPair(keyObject)` from `@authcenter/client/node`).
   */
  dpop?: boolean | CryptoKeyPair
  /** Renew shortly before the access token expires (with jitter). Default `true`. */
  autoRefresh?: boolean
  /** Shown in the user's session list (`device.name` at login). */
  deviceName?: string
  /**
   * The origins `auth.fetch` may send the access token to, besides the issuer's and the
   * page's own. Unset: any origin. Set it so that a URL built from input can never carry
   * the token to someone else's server (a TypeError instead).
   */
  origins?: string[]
  /** The platform's `fetch` by default. */
  fetch?: typeof fetch
}

/** Why the session ended: `logout`, or the server's code (`SESSION_REVOKED`, `REFRESH_TOKEN_REUSED`, …). */
export interface LogoutEvent { reason: string }

export interface SessionInfo {
  userId?: string
  mobile?: string
  sessionId: string
  /** `refresh` (access + refresh), `sliding` (`/auth/slide`) or `single` (no renewal: log in again when it expires). */
  kind: Session['kind']
  /** When the current access token expires, in this machine's clock (ms). */
  expiresAt: number
}

export interface AuthClient {
  /** Sends a login code by SMS: `{expiresIn, retryAfter}` in seconds. */
  requestCode (mobile: string): Promise<{ expiresIn: number, retryAfter: number }>
  loginWithCode (mobile: string, code: string): Promise<SessionInfo>
  loginWithPassword (mobile: string, password: string): Promise<SessionInfo>
  /** A valid access token, renewed first when it is about to expire. Throws `NOT_LOGGED_IN` without a session. */
  getAccessToken (): Promise<string>
  /**
   * The platform's `fetch`, with `Authorization` (and a fresh `DPoP` proof) added. A 401
   * `TOKEN_EXPIRED` renews once and retries once; any other 401 throws an {@link AuthError}
   * (and the session-ending ones emit `logout`). Other statuses are returned as they are.
   */
  fetch (input: RequestInfo | URL, init?: RequestInit): Promise<Response>
  /** Ends the session at the auth center (best effort) and here, and emits `logout`. */
  logout (): Promise<void>
  /** Called once per tab when the session ends, whichever tab or server ended it. Returns the unsubscribe function. */
  on (event: 'logout', listener: (event: LogoutEvent) => void): () => void
  /** What the session is, without its tokens; `undefined` when logged out. */
  session (): Promise<SessionInfo | undefined>
  /** Stops the refresh timer and the tab channel. */
  close (): void
}

/** Retries of a renewal that got no answer (a dropped response): the grace window gives the same successor back. */
const RENEW_RETRY_DELAYS_MS = [300, 1000]

/**
 * The app side of authcenter.
 *
 * @example
 * ```ts
 * const auth = createClient({ issuer: 'https://auth.example.com' })
 * await auth.requestCode('13800138000')
 * await auth.loginWithCode('13800138000', code)
 * const res = await auth.fetch('https://api.example.com/user/mine')
 * auth.on('logout', ({ reason }) => showLogin(reason))
 * ```
 */
export function createClient (options: ClientOptions): AuthClient {
  if (typeof options?.issuer !== 'string' || !/^https?:\/\/[^/]+/.test(options.issuer)) {
    throw new TypeError('@authcenter/client: "issuer" must be an http(s) URL')
  }
  if (options.clientId !== undefined && (typeof options.clientId !== 'string' || options.clientId === '')) {
    throw new TypeError('@authcenter/client: "clientId" must be a non-empty string')
  }
  if (options.origins !== undefined && (!Array.isArray(options.origins) || options.origins.some((o) => typeof o !== 'string' || !/^https?:\/\/[^/]+$/.test(o)))) {
    throw new TypeError('@authcenter/client: "origins" must be a list of origins like https://api.example.com')
  }
  const issuer = options.issuer.replace(/\/+$/, '')
  const allowed = options.origins === undefined
    ? undefined
    : new Set([...options.origins, new URL(issuer).origin, ...(typeof location === 'undefined' ? [] : [location.origin])])
  const clientId = options.clientId
  const storage = options.storage ?? memoryStorage()
  const autoRefresh = options.autoRefresh ?? true
  const http = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const name = `authcenter:${issuer}:${clientId ?? 'default'}`
  const SESSION = `${name}:session`
  const ENDED = `${name}:ended`
  const KEY = `${name}:dpop-key`

  const listeners = new Set<(e: LogoutEvent) => void>()
  const nonces = new Map<string, string>()
  let current: Session | undefined
  let loaded: Promise<void> | undefined
  let inflight: Promise<Session> | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let dpopKey: Promise<DpopKey> | undefined
  let closed = false

  const tabs: CrossTab = storage.shared
    ? crossTab(name, (m: TabMessage) => {
      if (m.type === 'session') void reload()
      // Only the session that ended: this tab may hold a newer one already.
      else if (m.type === 'logout' && (m.sessionId === undefined || m.sessionId === current?.sessionId)) void ended(m.reason, false)
    })
    : { lock: async <T>(fn: () => Promise<T>) => await fn(), post: () => {}, close: () => {} }

  async function reload (): Promise<void> { adopt(await storage.get<Session>(SESSION)) }
  const ensureLoaded = (): Promise<void> => loaded ??= reload()

  function adopt (s: Session | undefined): void {
    current = s
    clearTimeout(timer)
    if (closed || !autoRefresh || s === undefined || s.kind === 'single') return
    // Renew a little before expiry; the jitter spreads tabs and devices apart.
    const lead = Math.min(30_000, s.lifetimeMs * 0.2)
    const jitter = Math.random() * Math.min(5000, s.lifetimeMs * 0.1)
    timer = setTimeout(() => { renew(s).catch(() => { /* surfaced by the next call */ }) }, Math.max(0, s.expiresAt - lead - jitter - Date.now()))
    ;(timer as { unref?: () => void }).unref?.()
  }

  /**
   * The session `s` is over. `everywhere`: this tab found out, so it clears the storage and
   * tells the others, unless another tab has logged in anew meanwhile (then that session
   * is taken instead and nothing ended for the user).
   */
  async function ended (reason: string, everywhere: boolean, s: Session | undefined = current): Promise<void> {
    if (everywhere) {
      const stored = await storage.get<Session>(SESSION)
      if (stored !== undefined && s !== undefined && stored.sessionId !== s.sessionId) { adopt(stored); return }
      await storage.delete(SESSION)
      await storage.set(ENDED, reason)
      tabs.post({ type: 'logout', reason, sessionId: s?.sessionId })
    }
    clearTimeout(timer)
    const had = current !== undefined
    current = undefined
    // Once per tab: a tab told by another one after it noticed itself stays quiet.
    if (had) {
      for (const listener of listeners) {
        // A listener that throws must not break the SDK's own bookkeeping; the error is still reported.
        try { listener({ reason }) } catch (err) { queueMicrotask(() => { throw err }) }
      }
    }
  }

  function key (): Promise<DpopKey> {
    dpopKey ??= (async () => {
      if (typeof options.dpop === 'object') return await dpopKeyFrom(options.dpop)
      const stored = await storage.get<DpopKey>(KEY)
      if (stored !== undefined) return stored
      // One key per client on this device, made once even when two tabs log in at once. Its own
      // lock: a renewal asks for the key while it holds the renewal lock.
      return await tabs.lock(async () => {
        const again = await storage.get<DpopKey>(KEY)
        if (again !== undefined) return again
        const made = await generateDpopKey()
        await storage.set(KEY, made)
        return made
      }, ':dpop-key')
    })()
    dpopKey.catch(() => { dpopKey = undefined })
    return dpopKey
  }

  async function proof (method: string, url: string, accessToken?: string): Promise<string> {
    return await dpopProof(await key(), method, url, accessToken, nonces.get(new URL(url).origin))
  }

  function noteNonce (url: string, res: Response): void {
    const nonce = res.headers.get('dpop-nonce')
    if (nonce !== null) nonces.set(new URL(url).origin, nonce)
  }

  /** A POST to the auth center; one retry when it asks for a DPoP nonce. */
  async function post (path: string, body: unknown, withProof: boolean, headers: Record<string, string> = {}, accessToken?: string): Promise<unknown> {
    const url = issuer + path
    for (let attempt = 0; ; attempt++) {
      const h: Record<string, string> = { ...headers }
      if (body !== undefined) h['content-type'] = 'application/json'
      if (withProof) h.dpop = await proof('POST', url, accessToken)
      let res: Response
      try {
        // credentials: the fingerprint-cookie policy relies on the __Host- cookie, which the SDK never reads.
        res = await http(url, { method: 'POST', headers: h, credentials: 'include', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
      } catch (cause) { throw networkError(cause) }
      noteNonce(url, res)
      if (res.ok) return res.status === 204 ? undefined : await res.json().catch(() => undefined)
      const err = await errorFrom(res)
      if (attempt === 0 && withProof && /^use_dpop_nonce$/i.test(err.code) && res.headers.has('dpop-nonce')) continue
      throw err
    }
  }

  async function begin (body: Record<string, unknown>): Promise<SessionInfo> {
    await ensureLoaded() // a first load finishing after the login would put the old state back
    const sentAt = Date.now()
    const reply = await post('/auth/login', {
      ...body,
      ...(clientId !== undefined ? { client_id: clientId } : {}),
      ...(options.deviceName !== undefined ? { device: { name: options.deviceName } } : {})
    }, options.dpop !== undefined && options.dpop !== false)
    const s = toSession(reply, sentAt)
    await storage.delete(ENDED)
    await storage.set(SESSION, s)
    adopt(s)
    tabs.post({ type: 'session' })
    return info(s)
  }

  /**
   * The one renewal of a session: single-flight in this page (`inflight`) and across
   * tabs (the lock). Inside the lock, the stored session decides: another tab may
   * have renewed already, and then its result is taken as it is.
   */
  function renew (stale: Session): Promise<Session> {
    inflight ??= tabs.lock(async () => {
      const stored = await storage.get<Session>(SESSION)
      if (stored === undefined) {
        const reason = await storage.get<string>(ENDED) ?? 'NOT_LOGGED_IN'
        await ended(reason, false)
        throw new AuthError(reason, 'The session has ended')
      }
      if (stored.accessToken !== stale.accessToken) { adopt(stored); return stored }
      const next = await exchange(stored)
      await storage.set(SESSION, next)
      adopt(next)
      tabs.post({ type: 'session' })
      return next
    }).finally(() => { inflight = undefined })
    return inflight
  }

  /** `/auth/refresh` or `/auth/slide`; an answer lost on the way is asked again (the grace window answers it). */
  async function exchange (s: Session): Promise<Session> {
    if (s.kind === 'single') {
      await ended('TOKEN_EXPIRED', true, s)
      throw new AuthError('TOKEN_EXPIRED', 'This client\'s tokens are not renewed: log in again')
    }
    const dpop = s.tokenType === 'DPoP'
    for (let attempt = 0; ; attempt++) {
      const sentAt = Date.now()
      try {
        const reply = s.kind === 'refresh'
          ? await post('/auth/refresh', { refresh_token: s.refreshToken }, dpop)
          : await post('/auth/slide', undefined, dpop, { authorization: `${s.tokenType} ${s.accessToken}` }, s.accessToken)
        return toSession(reply, sentAt, s)
      } catch (err) {
        const e = err as AuthError
        const transient = e.code === 'NETWORK_ERROR' || e.status >= 500
        if (transient && attempt < RENEW_RETRY_DELAYS_MS.length) {
          await new Promise((resolve) => setTimeout(resolve, RENEW_RETRY_DELAYS_MS[attempt]))
          continue
        }
        // The auth center refused this session's renewal (revoked, reused, expired, bound elsewhere): log in again.
        if (!transient && e.status !== 429) await ended(e.code, true, s)
        throw e
      }
    }
  }

  async function fresh (): Promise<Session> {
    await ensureLoaded()
    const s = current
    if (s === undefined) throw new AuthError('NOT_LOGGED_IN', clientErrorCodes.NOT_LOGGED_IN)
    const margin = Math.min(1000, s.lifetimeMs * 0.1)
    return Date.now() < s.expiresAt - margin ? s : await renew(s)
  }

  async function send (request: Request, s: Session): Promise<[Response, AuthError | undefined]> {
    const r = request.clone()
    r.headers.set('authorization', `${s.tokenType} ${s.accessToken}`)
    if (s.tokenType === 'DPoP') r.headers.set('dpop', await proof(r.method, r.url, s.accessToken))
    let res: Response
    try { res = await http(r) } catch (cause) { throw networkError(cause) }
    noteNonce(r.url, res)
    return [res, res.status === 401 ? await errorFrom(res) : undefined]
  }

  const info = (s: Session): SessionInfo => ({
    sessionId: s.sessionId, kind: s.kind, expiresAt: s.expiresAt,
    ...(s.user !== undefined ? { userId: s.user.id, mobile: s.user.mobile } : {})
  })

  return {
    async requestCode (mobile) {
      const r = await post('/auth/sms-code', { mobile }, false) as { expires_in: number, retry_after: number }
      return { expiresIn: r.expires_in, retryAfter: r.retry_after }
    },
    loginWithCode: async (mobile, code) => await begin({ mobile, code }),
    loginWithPassword: async (mobile, password) => await begin({ mobile, password }),
    getAccessToken: async () => (await fresh()).accessToken,
    async fetch (input, init) {
      const request = new Request(input, init)
      if (allowed !== undefined && !allowed.has(new URL(request.url).origin)) {
        throw new TypeError(`@authcenter/client: ${new URL(request.url).origin} is not in "origins"; the access token is not sent there`)
      }
      let s = await fresh()
      let [res, err] = await send(request, s)
      if (err?.code === 'USE_DPOP_NONCE') [res, err] = await send(request, s)
      if (err?.code === 'TOKEN_EXPIRED' && s.kind !== 'single') {
        s = await renew(s)
        ;[res, err] = await send(request, s)
      }
      if (err === undefined) return res
      if (endsSession(err.code)) await ended(err.code, true, s)
      throw err
    },
    async logout () {
      const s = await fresh().catch(() => undefined)
      if (s !== undefined) {
        try {
          await post('/auth/logout', undefined, s.tokenType === 'DPoP', { authorization: `${s.tokenType} ${s.accessToken}` }, s.accessToken)
        } catch { /* already over at the server, or offline: it ends here anyway */ }
      }
      await ended('logout', true, s ?? current)
    },
    on (event, listener) {
      if (event !== 'logout' || typeof listener !== 'function') throw new TypeError('@authcenter/client: on(\'logout\', listener)')
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    async session () {
      await ensureLoaded()
      return current === undefined ? undefined : info(current)
    },
    close () {
      closed = true
      clearTimeout(timer)
      tabs.close()
    }
  }
}
