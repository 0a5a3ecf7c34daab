import { createHash, generateKeyPairSync } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { freePort } from '@authcenter/testkit'
import { build, loadConfig } from '../../src/app.js'
import { CapturingSender, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

export const PARTNER_SECRET = 'partner-secret-0123456789abcdefghijklmnopqrstuv'
export const OPS_SECRET = 'ops-secret-0123456789abcdefghijklmnopqrstuvwxyz'
export const BOUND_SECRET = 'bound-secret-0123456789abcdefghijklmnopqrstuvw'
export const PARTNER_REDIRECT = 'https://partner.example/cb'
export const SPA_REDIRECT = 'http://localhost:5173/callback'

const sha256hex = (s: string): string => createHash('sha256').update(s).digest('hex')

/** The private key of the private_key_jwt client `signer`. */
export const signerKeys = generateKeyPairSync('ed25519')

export function clientsFile (extraRedirect?: string): unknown {
  const jwk = { ...signerKeys.publicKey.export({ format: 'jwk' }), kid: 'signer-1', use: 'sig' }
  return {
    clients: [
      {
        client_id: 'partner',
        name: 'Partner App',
        type: 'confidential',
        client_secret_sha256: sha256hex(PARTNER_SECRET),
        redirect_uris: [PARTNER_REDIRECT, ...(extraRedirect !== undefined ? [extraRedirect] : [])],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        scope: 'openid phone profile:read profile:write'
      },
      { client_id: 'spa', name: 'Single Page App', type: 'public', redirect_uris: [SPA_REDIRECT], scope: 'openid profile:read' },
      { client_id: 'signer', name: 'Signer', type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] }, grant_types: ['client_credentials'], scope: 'reports' },
      { client_id: 'bound', name: 'DPoP-bound robot', type: 'confidential', client_secret_sha256: sha256hex(BOUND_SECRET), grant_types: ['client_credentials'], scope: 'reports', policy: { binding: 'dpop' } },
      { client_id: 'ops', name: 'Ops robot', type: 'confidential', client_secret_sha256: sha256hex(OPS_SECRET), grant_types: ['client_credentials'], scope: 'admin' }
    ]
  }
}

export interface OAuthCenter {
  app: FastifyInstance
  issuer: string
  close (): Promise<void>
}

/** The auth center on a known port (the issuer must be its real URL for discovery), with the test clients. */
export async function startOAuthCenter (env: Record<string, string> = {}, opts: { host?: string, extraRedirect?: string } = {}): Promise<OAuthCenter> {
  const dir = await mkdtemp(join(tmpdir(), 'authcenter-oauth-'))
  await writeFile(join(dir, 'clients.json'), JSON.stringify(clientsFile(opts.extraRedirect)))
  const port = await freePort()
  const issuer = `http://${opts.host ?? '127.0.0.1'}:${port}`
  const config = loadConfig({
    AUTH_ISSUER: issuer,
    AUTH_DATA_DIR: dir,
    AUTH_CLIENTS_FILE: join(dir, 'clients.json'),
    SMS_TEST_OTP: `${TEST_MOBILE}:${TEST_OTP}`,
    LOG_LEVEL: 'silent',
    ...env
  })
  const app = await build(config, { sms: new CapturingSender(), logger: false })
  await app.listen({ host: '127.0.0.1', port })
  return {
    app,
    issuer,
    async close () {
      await app.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** A tiny browser: keeps the one cookie, follows nothing, reads hidden form fields. */
export class Browser {
  cookie: string | undefined
  async get (url: string): Promise<Response> {
    const res = await fetch(url, { redirect: 'manual', headers: this.cookie !== undefined ? { cookie: this.cookie } : {} })
    this.#keep(res)
    return res
  }

  async post (url: string, form: Record<string, string>): Promise<Response> {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(this.cookie !== undefined ? { cookie: this.cookie } : {}) },
      body: new URLSearchParams(form).toString()
    })
    this.#keep(res)
    return res
  }

  #keep (res: Response): void {
    const set = res.headers.get('set-cookie')
    if (set !== null) {
      const first = set.split(';')[0]!
      this.cookie = first.endsWith('=') ? undefined : first
    }
  }
}

/** Hidden inputs of the form with this id. */
export function formFields (html: string, formId: string): Record<string, string> {
  const start = html.indexOf(`id="${formId}"`)
  if (start < 0) throw new Error(`no form ${formId}`)
  const form = html.slice(start, html.indexOf('</form>', start))
  const out: Record<string, string> = {}
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) out[m[1]!] = unescape(m[2]!)
  return out
}

function unescape (s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
}

/** Logs in through the pages and allows: returns the final redirect (with the code). */
export async function loginAndConsent (browser: Browser, authorizeUrl: string, origin: string): Promise<URL> {
  const page = await browser.get(authorizeUrl)
  // Signed in already and consent remembered: straight back with a code.
  if (page.status === 303) return new URL(page.headers.get('location')!)
  if (page.status !== 200) throw new Error(`authorize answered ${page.status}: ${page.headers.get('location') ?? await page.text()}`)
  const login = formFields(await page.text(), 'login')
  const after = await browser.post(`${origin}/oauth/authorize/login`, { ...login, mobile: TEST_MOBILE, code: TEST_OTP })
  if (after.status !== 303) throw new Error(`login answered ${after.status}: ${await after.text()}`)
  const consent = await browser.get(new URL(after.headers.get('location')!, origin).href)
  if (consent.status === 303) return new URL(consent.headers.get('location')!)
  const fields = formFields(await consent.text(), 'consent')
  const done = await browser.post(`${origin}/oauth/authorize/consent`, { ...fields, decision: 'allow' })
  if (done.status !== 303) throw new Error(`consent answered ${done.status}`)
  return new URL(done.headers.get('location')!)
}
