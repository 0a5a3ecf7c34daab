import { randomUUID } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { normalizeMobile, maskMobile } from '../auth/mobile.js'
import { checkPasswordLogin } from '../auth/password-login.js'
import { checkLoginCode, sendLoginCode } from '../auth/sms-codes.js'
import type { Deps } from '../context.js'
import { revokeSession } from '../sessions/revoke.js'
import type { Session, User } from '../store/store.js'
import { afterSignIn, checkAuthorizeRequest, redirectSource, redirectWith, type AuthorizeRequest } from './authorize-request.js'
import { csrfMatches, csrfToken, readBrowser, setBrowserCookie, signIn, BROWSER_SESSION_MS, type Browser } from './browser-session.js'
import { CODE_TTL_MS, newCode } from './codes.js'
import { OAuthError } from './errors.js'
import { acceptForms, queryParams, toParams, type Params } from './form.js'
import { consentPage, errorPage, loginPage } from './views/pages.js'
import { pageReplies } from '../schemas.js'

const FormBody = Type.Record(Type.String(), Type.String())
/** What `canonicalQuery` makes: URL-safe characters and percent-escapes only. */
const CANONICAL_QUERY = /^[A-Za-z0-9\-._~%&=+*]{1,8192}$/
const Query = Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]))

/**
 * The browser side of the authorization code flow: GET /oauth/authorize, the login
 * page (SMS code or password, the first-party checks of auth/), the consent page.
 * Server-rendered, no script; every form carries a CSRF token bound to the
 * `__Host-` browser cookie; pages may not be framed.
 */
const oauthBrowserRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const deps = app.deps
  acceptForms(app)
  app.setErrorHandler(async (err: FastifyError | OAuthError, request, reply) => {
    if (err instanceof OAuthError) return sendPage(reply, 400, errorPage('Bad request', err.message))
    const status = err.statusCode ?? 500
    if (status >= 500) request.log.error({ err }, 'authorize page failed')
    if (err.code === 'STORE_UNAVAILABLE') return sendPage(reply, 503, errorPage('Try again shortly', 'The service is busy. Please try again in a moment.'))
    if (status < 500) return sendPage(reply, status, errorPage('Bad request', err.message))
    return sendPage(reply, 500, errorPage('Something went wrong', 'Please try again.'))
  })

  app.get('/oauth/authorize', { schema: { querystring: Query, response: pageReplies } }, async (request, reply) => {
    const params = queryParams(request.query)
    const browser = await readBrowser(deps, request)
    if (browser.fresh) setBrowserCookie(reply, browser.secret)
    return await proceed(request, reply, browser, params, {})
  })

  app.post('/oauth/authorize/sms-code', { schema: { body: FormBody, response: pageReplies } }, async (request, reply) => {
    const form = request.body as Params
    const ctx = await formContext(request, reply, form, 'login')
    if (ctx === undefined) return reply
    const mobile = normalizeMobile(form.mobile ?? '')
    if (mobile === undefined) return showLogin(reply, ctx.browser, ctx.req, { mobile: form.mobile, error: 'That is not a valid mobile number.' })
    try {
      await sendLoginCode(deps, mobile, request.clientIp)
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'RATE_LIMITED' || code === 'SMS_DELIVERY_FAILED' || code === 'SMS_COUNTRY_NOT_ALLOWED' || code === 'SMS_BUDGET_EXHAUSTED') return showLogin(reply, ctx.browser, ctx.req, { mobile: form.mobile, error: (err as Error).message })
      throw err
    }
    return showLogin(reply, ctx.browser, ctx.req, { mobile: form.mobile, notice: `We sent a code to ${maskMobile(mobile)}.` })
  })

  app.post('/oauth/authorize/login', { schema: { body: FormBody, response: pageReplies } }, async (request, reply) => {
    const form = request.body as Params
    const ctx = await formContext(request, reply, form, form.password !== undefined ? 'password' : 'login')
    if (ctx === undefined) return reply
    const { browser, req } = ctx
    const mobile = normalizeMobile(form.mobile ?? '')
    if (mobile === undefined) return showLogin(reply, browser, req, { mobile: form.mobile, error: 'That is not a valid mobile number.' })
    if ((form.code === undefined) === (form.password === undefined)) return showLogin(reply, browser, req, { mobile: form.mobile, error: 'Enter the code from the SMS.' })
    let user: User
    try {
      if (form.code !== undefined) {
        if (!/^\d{6}$/.test(form.code)) throw Object.assign(new Error('The code is wrong or has expired'), { code: 'INVALID_CODE' })
        await checkLoginCode(deps, mobile, form.code);
        ({ user } = await deps.store.getOrCreateUserByMobile(mobile, { id: randomUUID(), mobile, createdAt: deps.now() }))
      } else {
        user = await checkPasswordLogin(deps, mobile, form.password!, request.clientIp)
      }
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'INVALID_CODE' || code === 'INVALID_CREDENTIALS' || code === 'RATE_LIMITED' || code === 'PASSWORD_CHECK_BUSY') {
        return showLogin(reply, browser, req, { mobile: form.mobile, error: (err as Error).message })
      }
      throw err
    }
    // Built before anything is saved, from the parsed request (never the raw form field).
    const location = `/oauth/authorize?${afterSignIn(req)}`
    const secret = await signIn(deps, request, user)
    // The new sign-in replaces the one this browser had (prompt=login, max_age): that one ends.
    if (browser.session !== undefined) await revokeSession(deps, browser.session.id, 'logout')
    setBrowserCookie(reply, secret, BROWSER_SESSION_MS / 1000)
    return reply.code(303).header('location', location).send()
  })

  app.post('/oauth/authorize/consent', { schema: { body: FormBody, response: pageReplies } }, async (request, reply) => {
    const form = request.body as Params
    const ctx = await formContext(request, reply, form, 'consent')
    if (ctx === undefined) return reply
    const { browser, req } = ctx
    if (browser.session === undefined) return showLogin(reply, browser, req, { error: 'Your sign-in expired. Please sign in again.' })
    if (form.decision !== 'allow') {
      return redirect(reply, redirectWith(req.redirectUri, { error: 'access_denied', error_description: 'the user denied the request', state: req.state, iss: deps.config.issuer }))
    }
    const previous = await deps.store.getConsent(browser.session.userId, req.client.clientId)
    const scope = [...new Set([...(previous?.scope.split(' ').filter((s) => s !== '') ?? []), ...req.scope])].join(' ')
    await deps.store.setConsent(browser.session.userId, { clientId: req.client.clientId, scope, grantedAt: deps.now() })
    return redirect(reply, await issueCode(deps, req, browser.session))
  })

  app.post('/oauth/authorize/logout', { schema: { body: FormBody, response: pageReplies } }, async (request, reply) => {
    const form = request.body as Params
    const ctx = await formContext(request, reply, form, 'logout')
    if (ctx === undefined) return reply
    const location = `/oauth/authorize?${ctx.req.query}`
    if (ctx.browser.session !== undefined) await revokeSession(deps, ctx.browser.session.id, 'logout')
    setBrowserCookie(reply, ctx.browser.secret, 0)
    return reply.code(303).header('location', location).send()
  })

  /** After the request is known good: sign in, consent, or straight back with a code. */
  async function proceed (_request: FastifyRequest, reply: FastifyReply, browser: Browser, params: Params, view: { error?: string }): Promise<FastifyReply> {
    const checked = await checkAuthorizeRequest(deps, params)
    if ('page' in checked) return sendPage(reply, 400, errorPage(checked.page.title, checked.page.message))
    if ('redirect' in checked) return redirect(reply, checked.redirect)
    const req = checked.ok
    const none = req.prompt.includes('none')
    // OIDC Core §3.1.2.1: prompt=login, or a sign-in older than max_age, wants the user to sign in again.
    const stale = browser.session !== undefined &&
      (req.prompt.includes('login') || (req.maxAgeS !== undefined && deps.now() - browser.session.createdAt > req.maxAgeS * 1000))
    if (browser.session === undefined || stale) {
      if (none) return redirect(reply, redirectWith(req.redirectUri, { error: 'login_required', state: req.state, iss: deps.config.issuer }))
      return showLogin(reply, browser, req, view)
    }
    const consent = await deps.store.getConsent(browser.session.userId, req.client.clientId)
    const granted = consent?.scope.split(' ') ?? []
    if (consent !== null && !req.prompt.includes('consent') && req.scope.every((s) => granted.includes(s))) {
      return redirect(reply, await issueCode(deps, req, browser.session))
    }
    if (none) return redirect(reply, redirectWith(req.redirectUri, { error: 'consent_required', state: req.state, iss: deps.config.issuer }))
    const user = await deps.store.getUser(browser.session.userId)
    return sendPage(reply, 200, consentPage({
      clientName: req.client.name,
      clientId: req.client.clientId,
      scopes: req.scope,
      request: req.query,
      csrf: csrfToken(deps, browser.secret, 'consent', req.query),
      logoutCsrf: csrfToken(deps, browser.secret, 'logout', req.query),
      mobile: user === null ? '' : maskMobile(user.mobile)
    }), req.redirectUri)
  }

  /**
   * A form post: the browser, the CSRF token (bound to its cookie and to the request)
   * and the carried authorization request, checked again before anything happens.
   * Undefined when the reply is already made.
   */
  async function formContext (request: FastifyRequest, reply: FastifyReply, form: Params, name: string): Promise<{ browser: Browser, req: AuthorizeRequest } | undefined> {
    const query = form.request ?? ''
    // The pages only ever put a canonical query here (printable ASCII, every value
    // percent-encoded); anything else (CR/LF, U+2028, …) was not made by them.
    if (!CANONICAL_QUERY.test(query)) {
      sendPage(reply, 400, errorPage('Bad request', 'This sign-in form was changed. Please start again from the application.'))
      return undefined
    }
    const browser = await readBrowser(deps, request)
    const checked = await checkAuthorizeRequest(deps, toParams(new URLSearchParams(query)))
    if ('page' in checked) {
      sendPage(reply, 400, errorPage(checked.page.title, checked.page.message))
      return undefined
    }
    if ('redirect' in checked) {
      redirect(reply, checked.redirect)
      return undefined
    }
    if (!csrfMatches(deps, browser.secret, name, checked.ok.query, form.csrf)) {
      // A missing cookie or a forged post: start the form again (with a cookie).
      if (browser.fresh) setBrowserCookie(reply, browser.secret)
      request.log.warn({ form: name }, 'CSRF token refused')
      showLogin(reply, browser, checked.ok, { error: 'The form expired. Please try again.' }, 403)
      return undefined
    }
    return { browser, req: checked.ok }
  }

  function showLogin (reply: FastifyReply, browser: Browser, req: AuthorizeRequest, view: { mobile?: string | undefined, error?: string, notice?: string }, status = 200): FastifyReply {
    return sendPage(reply, status, loginPage({
      clientName: req.client.name,
      request: req.query,
      csrf: csrfToken(deps, browser.secret, 'login', req.query),
      passwordCsrf: csrfToken(deps, browser.secret, 'password', req.query),
      ...(view.mobile !== undefined ? { mobile: view.mobile } : {}),
      ...(view.error !== undefined ? { error: view.error } : {}),
      ...(view.notice !== undefined ? { notice: view.notice } : {})
    }), req.redirectUri)
  }
}

/** A code for the signed-in user, saved for 60 s, and the redirect that carries it. */
async function issueCode (deps: Deps, req: AuthorizeRequest, browserSession: Session): Promise<string> {
  const { code, codeId } = newCode()
  await deps.store.saveAuthCode(codeId, {
    clientId: req.client.clientId,
    redirectUri: req.redirectUri,
    codeChallenge: req.codeChallenge,
    scope: req.scope.join(' '),
    userId: browserSession.userId,
    ...(req.nonce !== undefined ? { nonce: req.nonce } : {}),
    authTime: browserSession.createdAt
  }, CODE_TTL_MS)
  return redirectWith(req.redirectUri, { code, state: req.state, iss: deps.config.issuer })
}

function redirect (reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('location', location).header('cache-control', 'no-store').send()
}

function sendPage (reply: FastifyReply, status: number, body: string, redirectUri?: string): FastifyReply {
  const formAction = redirectUri === undefined ? "'self'" : `'self' ${redirectSource(redirectUri)}`
  return reply.code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`)
    .send(body)
}

export default oauthBrowserRoutes
