import { AuthError, clientErrorCodes, errorFrom, networkError } from './errors.js'

export interface ClientCredentialsOptions {
  /** The auth center's issuer URL; the token endpoint is `<issuer>/oauth/token`. */
  issuer: string
  clientId: string
  clientSecret: string
  /** Space-separated scopes to ask for; unset means the client's registered scope. */
  scope?: string
  fetch?: typeof fetch
}

export interface TokenSource {
  /** A cached access token, renewed before it expires (one request at a time). */
  getAccessToken (): Promise<string>
  /** `fetch` with `Authorization: Bearer`; a 401 `TOKEN_EXPIRED` gets a new token and one retry. */
  fetch (input: RequestInfo | URL, init?: RequestInit): Promise<Response>
}

/**
 * Service to service: the client credentials grant (RFC 6749 §4.4) with
 * `client_secret_basic`, cached and renewed before expiry.
 *
 * @example
 * ```ts
 * const orders = clientCredentials({ issuer, clientId: 'reports', clientSecret: process.env.REPORTS_SECRET!, scope: 'profile:read' })
 * const res = await orders.fetch('http://user-service/user/mine')
 * ```
 */
export function clientCredentials (options: ClientCredentialsOptions): TokenSource {
  for (const name of ['issuer', 'clientId', 'clientSecret'] as const) {
    if (typeof options?.[name] !== 'string' || options[name] === '') throw new TypeError(`@authcenter/client: "${name}" must be a non-empty string`)
  }
  const endpoint = `${options.issuer.replace(/\/+$/, '')}/oauth/token`
  const http = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  // RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
  const form = (v: string): string => encodeURIComponent(v).replace(/%20/g, '+')
  const basic = `Basic ${btoa(`${form(options.clientId)}:${form(options.clientSecret)}`)}`
  let cached: { token: string, renewAt: number, expiresAt: number } | undefined
  let inflight: Promise<string> | undefined

  async function obtain (): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'client_credentials' })
    if (options.scope !== undefined) body.set('scope', options.scope)
    const sentAt = Date.now()
    let res: Response
    try {
      res = await http(endpoint, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body })
    } catch (cause) { throw networkError(cause) }
    if (!res.ok) throw await errorFrom(res)
    const r = await res.json().catch(() => undefined) as { access_token?: unknown, expires_in?: unknown } | undefined
    if (typeof r?.access_token !== 'string' || typeof r.expires_in !== 'number') throw new AuthError('UNEXPECTED_RESPONSE', clientErrorCodes.UNEXPECTED_RESPONSE)
    const lifetime = r.expires_in * 1000
    // Renew at 75–85 % of the lifetime (at most 30 s early), so replicas do not all renew at once.
    const early = Math.min(30_000, lifetime * (0.15 + Math.random() * 0.1))
    cached = { token: r.access_token, renewAt: sentAt + lifetime - early, expiresAt: sentAt + lifetime }
    return r.access_token
  }

  async function getAccessToken (force = false): Promise<string> {
    const now = Date.now()
    if (!force && cached !== undefined && now < cached.renewAt) return cached.token
    inflight ??= obtain().finally(() => { inflight = undefined })
    try {
      return await inflight
    } catch (err) {
      // A renewal that failed while the old token is still alive: keep using it.
      if (!force && cached !== undefined && Date.now() < cached.expiresAt - 1000) return cached.token
      throw err
    }
  }

  async function send (request: Request, token: string): Promise<Response> {
    const r = request.clone()
    r.headers.set('authorization', `Bearer ${token}`)
    try { return await http(r) } catch (cause) { throw networkError(cause) }
  }

  return {
    getAccessToken: async () => await getAccessToken(),
    async fetch (input, init) {
      const request = new Request(input, init)
      const res = await send(request, await getAccessToken())
      if (res.status !== 401) return res
      const err = await errorFrom(res)
      if (err.code !== 'TOKEN_EXPIRED') throw err
      const again = await send(request, await getAccessToken(true))
      if (again.status === 401) throw await errorFrom(again)
      return again
    }
  }
}
