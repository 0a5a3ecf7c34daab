import { STATUS_CODES } from 'node:http'
import fp from 'fastify-plugin'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { FINGERPRINT_COOKIE, readCookie } from './dpop.js'
import { TokenError } from './errors.js'
import { createVerifier, requiredScopes } from './verify.js'
import type { Auth, Verifier, VerifyOptions } from './verify.js'
import type { VerifierOptions } from './options.js'

/** Options of {@link verifierPlugin}: verifier options, or a verifier you built (then you close it). */
export type VerifierPluginOptions =
  | (VerifierOptions & PluginExtras)
  | ({ verifier: Verifier } & PluginExtras)

interface PluginExtras {
  realm?: string
  /**
   * The public URL of this service (`https://api.example.com`, or with the path it is
   * mounted on behind a gateway, `https://example.com/users`), or a list of them: a DPoP
   * proof's `htu` must be one of them + the request path. Never taken from the request's
   * Host header (a client chooses that). Default: the address the server listens on, with
   * `localhost` for a loopback address (`http://127.0.0.1:4001`, `http://localhost:4001`),
   * which suits development only.
   */
  publicUrl?: string | readonly string[]
}

/** Options of `app.authenticate(...)`. */
export interface AuthenticateOptions {
  /** Scopes the token must all carry (an array, or one space-separated string). */
  scope?: string | string[]
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The verified token, set by an `app.authenticate()` hook. `null` on
     * routes without that hook (typed non-null for use inside such routes).
     */
    auth: Auth
  }
  interface FastifyInstance {
    /** An `onRequest` hook that requires a valid Bearer access token (and the given scopes). */
    authenticate: (options?: AuthenticateOptions) => onRequestHookHandler
  }
}

// RFC 6750 §3: auth-param values are quoted strings of %x20-21 / %x23-5B / %x5D-7E.
function quoted (value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '')}"`
}

/**
 * The `WWW-Authenticate` challenge of RFC 6750 §3 for a refused token;
 * `undefined` when the failure is not the client's (503).
 */
export function challenge (err: TokenError, realm: string | undefined, scope: readonly string[] | undefined): string | undefined {
  const params: string[] = []
  if (realm !== undefined) params.push(`realm=${quoted(realm)}`)
  switch (err.code) {
    case 'TOKEN_MISSING':
      // §3.1: a request without credentials gets no error code.
      break
    case 'INSUFFICIENT_SCOPE':
      params.push('error="insufficient_scope"', `error_description=${quoted(err.message)}`)
      if (scope !== undefined) params.push(`scope=${quoted(scope.join(' '))}`)
      break
    case 'JWKS_UNAVAILABLE':
    case 'REVOCATION_UNAVAILABLE':
      return undefined
    default:
      params.push('error="invalid_token"', `error_description=${quoted(err.message)}`)
  }
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`
}

const BEARER = /^bearer$/i
const DPOP = /^dpop$/i

/**
 * The per-call options of one request. `dpop` and `fingerprint` are getters:
 * they are read (and the URL built, the cookie parsed) only for a token bound
 * with `cnf`, so an unbound token costs one small object per request.
 */
class RequestVerifyOptions implements VerifyOptions {
  readonly scope: readonly string[] | undefined
  readonly scheme: 'bearer' | 'dpop'
  readonly #request: FastifyRequest
  readonly #publicUrls: readonly string[] | undefined

  constructor (scope: readonly string[] | undefined, scheme: 'bearer' | 'dpop', request: FastifyRequest, publicUrls: readonly string[] | undefined) {
    this.scope = scope
    this.scheme = scheme
    this.#request = request
    this.#publicUrls = publicUrls
  }

  get dpop (): NonNullable<VerifyOptions['dpop']> {
    const request = this.#request
    const bases = this.#publicUrls ?? listeningUrls(request)
    return { proof: request.headers.dpop, method: request.method, url: bases.map((base) => base + request.url) }
  }

  get fingerprint (): string | undefined {
    return readCookie(this.#request.headers.cookie, FINGERPRINT_COOKIE)
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1'])

/**
 * The default public URLs: the address the server listens on (the socket's, never the
 * request's Host header), with `localhost` beside a loopback address.
 */
function listeningUrls (request: FastifyRequest): string[] {
  const address = request.server.server.address()
  if (address === null || typeof address === 'string') return []
  const scheme = (request.raw.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http'
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address
  const urls = [`${scheme}://${host}:${address.port}`]
  if (LOOPBACK.has(address.address)) urls.push(`${scheme}://localhost:${address.port}`)
  return urls
}

const PUBLIC_URL = /^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/

const plugin: FastifyPluginAsync<VerifierPluginOptions> = async (app, options) => {
  if (typeof options !== 'object' || options === null) throw new TypeError('@authcenter/verifier: options must be an object')
  let verifier: Verifier
  if ('verifier' in options) {
    if (typeof options.verifier !== 'function' || typeof options.verifier.close !== 'function') {
      throw new TypeError('@authcenter/verifier: "verifier" must be a verifier made by createVerifier()')
    }
    verifier = options.verifier
  } else {
    // Key-loading failures and revocation state changes go to the app's logger unless another is given.
    const { revocation } = options
    const withLogger = typeof revocation === 'object' && revocation !== null && revocation.logger === undefined
      ? { logger: app.log, ...options, revocation: { ...revocation, logger: app.log } }
      : { logger: app.log, ...options }
    // Throws a TypeError naming the bad option, which fails the registration.
    verifier = createVerifier(withLogger)
    // We close only what we created.
    app.addHook('onClose', async () => verifier.close())
  }
  if (options.realm !== undefined && typeof options.realm !== 'string') {
    throw new TypeError('@authcenter/verifier: "realm" must be a string')
  }
  const realm = options.realm ?? ('audience' in options ? [options.audience].flat()[0] : undefined)
  let publicUrls: readonly string[] | undefined
  if (options.publicUrl !== undefined) {
    const list = typeof options.publicUrl === 'string' ? [options.publicUrl] : options.publicUrl
    if (!Array.isArray(list) || list.length === 0 || !list.every((u) => typeof u === 'string' && PUBLIC_URL.test(u))) {
      throw new TypeError('@authcenter/verifier: "publicUrl" must be an http(s) URL like https://api.example.com (optionally with a path, no query), or a non-empty list of them')
    }
    // Without a trailing slash: the request path (which starts with one) is appended.
    publicUrls = Object.freeze(list.map((u: string) => u.replace(/\/+$/, '')))
  }
  if (app.hasDecorator('authenticate') || app.hasRequestDecorator('auth')) {
    throw new Error('@authcenter/verifier is already registered')
  }

  async function refuse (reply: FastifyReply, err: TokenError, scope: readonly string[] | undefined): Promise<FastifyReply> {
    let header = challenge(err, realm, scope)
    if (err.code === 'INVALID_DPOP_PROOF' || err.code === 'USE_DPOP_NONCE') {
      // RFC 9449 §7.1: DPoP errors are DPoP challenges.
      const error = err.code === 'USE_DPOP_NONCE' ? 'use_dpop_nonce' : 'invalid_dpop_proof'
      header = `DPoP ${realm !== undefined ? `realm=${quoted(realm)}, ` : ''}error="${error}", error_description=${quoted(err.message)}, algs="ES256 EdDSA RS256 PS256"`
    }
    if (err.nonce !== undefined) reply.header('dpop-nonce', err.nonce)
    if (header !== undefined) reply.header('www-authenticate', header)
    if (err.statusCode === 503) reply.header('retry-after', '1')
    return reply.code(err.statusCode).send({
      statusCode: err.statusCode,
      code: err.code,
      error: STATUS_CODES[err.statusCode],
      message: err.message
    })
  }

  // null until an authenticate hook sets it; typed as Auth for the routes that have one.
  app.decorateRequest('auth', null as unknown as Auth)
  app.decorate('authenticate', (authenticateOptions?: AuthenticateOptions): onRequestHookHandler => {
    // Checked once per route, when the hook is made; frozen, so the verifier checks it only once too.
    const scope = requiredScopes(authenticateOptions?.scope)
    const routeScope = scope === undefined ? undefined : Object.freeze([...scope])
    return async function authenticate (request: FastifyRequest, reply: FastifyReply) {
      try {
        // `Authorization: Bearer <token>` or `DPoP <token>` (RFC 6750, RFC 9449). No header or
        // another scheme (e.g. Basic) is TOKEN_MISSING; a scheme without exactly one token is TOKEN_MALFORMED.
        const value = request.headers.authorization
        if (value === undefined || value.length === 0) throw new TokenError('TOKEN_MISSING', 'no Authorization header')
        const space = value.indexOf(' ')
        const schemeText = space === -1 ? value : value.slice(0, space)
        const scheme = BEARER.test(schemeText) ? 'bearer' : DPOP.test(schemeText) ? 'dpop' : undefined
        if (scheme === undefined) throw new TokenError('TOKEN_MISSING', 'the Authorization header is not a Bearer or DPoP token')
        const token = space === -1 ? '' : value.slice(space + 1).trim()
        if (token.length === 0 || token.includes(' ')) {
          throw new TokenError('TOKEN_MALFORMED', `the Authorization header must be "${scheme === 'dpop' ? 'DPoP' : 'Bearer'} <token>"`)
        }
        request.auth = await verifier(token, new RequestVerifyOptions(routeScope, scheme, request, publicUrls))
      } catch (err) {
        if (err instanceof TokenError) return refuse(reply, err, scope)
        throw err
      }
    }
  })
}

/**
 * Fastify plugin: `app.authenticate({ scope })` makes an `onRequest` hook that
 * verifies the Bearer token and sets `request.auth`. Refusals answer 401 with
 * `WWW-Authenticate: Bearer error="invalid_token"`, 403 `insufficient_scope`,
 * or 503 when no key or no fresh revocation list can be obtained; the body is
 * `{ statusCode, code, error, message }`.
 *
 * @example
 * ```ts
 * await app.register(verifierPlugin, { issuer: 'https://auth.example.com', audience: 'authcenter' })
 * app.get('/me', { onRequest: app.authenticate({ scope: 'profile:read' }) }, async (request) => {
 *   return { id: request.auth.sub }
 * })
 * ```
 */
export const verifierPlugin = fp(plugin, { fastify: '5.x', name: '@authcenter/verifier' })
export default verifierPlugin
export { TokenError }
