import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createServer } from 'node:http'
import { createHash, randomBytes } from 'node:crypto'
import { freePort } from '@authcenter/testkit'
import { TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'
import { startOAuthCenter } from './helpers.js'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url)

/**
 * The login and consent pages in a real browser (Debian's chromium, headless), on
 * http://localhost so that the Secure `__Host-` cookie is kept. Screenshots of each
 * page go to test-artifacts/.
 */
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install -y chromium)`

t.test('headless Chromium logs in with the test OTP, consents and lands on the redirect URI with a code', { skip }, async (t) => {
  const { chromium } = await import('playwright-core')
  const cbPort = await freePort()
  const redirect = `http://localhost:${cbPort}/callback`
  const client = createServer((_req, res) => { res.end('client callback') })
  await new Promise<void>((resolve) => client.listen(cbPort, '127.0.0.1', resolve))
  t.teardown(() => { client.close() })
  const ac = await startOAuthCenter({}, { host: 'localhost', extraRedirect: redirect })
  t.teardown(() => ac.close())
  await mkdir(ARTIFACTS, { recursive: true })

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  t.teardown(() => browser.close())
  const page = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true })).newPage()

  const verifier = randomBytes(32).toString('base64url')
  const params = new URLSearchParams({
    response_type: 'code', client_id: 'partner', redirect_uri: redirect, scope: 'openid phone profile:read', state: 'xyz',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256'
  })
  await page.goto(`${ac.issuer}/oauth/authorize?${params}`)
  t.match(await page.textContent('h1'), /Sign in to continue to Partner App/)
  await page.screenshot({ path: new URL('login.png', ARTIFACTS).pathname, fullPage: true })

  await page.fill('#mobile', TEST_MOBILE)
  await page.click('#send-code')
  await page.waitForSelector('.notice')
  await page.fill('#code', TEST_OTP)
  await page.click('#sign-in')
  await page.waitForSelector('#consent')
  t.match(await page.textContent('#scopes'), /profile:read/)
  await page.screenshot({ path: new URL('consent.png', ARTIFACTS).pathname, fullPage: true })

  await Promise.all([page.waitForURL(/\/callback\?/), page.click('#allow')])
  const landed = new URL(page.url())
  t.equal(`${landed.origin}${landed.pathname}`, redirect)
  t.equal(landed.searchParams.get('state'), 'xyz')
  t.match(landed.searchParams.get('code'), /^[A-Za-z0-9_-]{43}$/)
  await page.screenshot({ path: new URL('callback.png', ARTIFACTS).pathname, fullPage: true })
})

t.test('headless Chromium: prompt=login signs a signed-in browser in again; a tampered request field is a 400 page (issue #12)', { skip }, async (t) => {
  const { chromium } = await import('playwright-core')
  const cbPort = await freePort()
  const redirect = `http://localhost:${cbPort}/callback`
  const client = createServer((_req, res) => { res.end('client callback') })
  await new Promise<void>((resolve) => client.listen(cbPort, '127.0.0.1', resolve))
  t.teardown(() => { client.close() })
  const ac = await startOAuthCenter({}, { host: 'localhost', extraRedirect: redirect })
  t.teardown(() => ac.close())
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  t.teardown(() => browser.close())
  const page = await (await browser.newContext()).newPage()
  const url = (extra: Record<string, string> = {}): string => `${ac.issuer}/oauth/authorize?${new URLSearchParams({
    response_type: 'code', client_id: 'partner', redirect_uri: redirect, scope: 'openid', state: 'xyz',
    code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'), code_challenge_method: 'S256', ...extra
  })}`
  const signIn = async (): Promise<void> => {
    await page.fill('#mobile', TEST_MOBILE)
    await page.fill('#code', TEST_OTP)
    await page.click('#sign-in')
  }

  await page.goto(url())
  await signIn()
  await page.waitForSelector('#consent')
  await Promise.all([page.waitForURL(/\/callback\?/), page.click('#allow')])
  await page.goto(url())
  t.match(page.url(), /\/callback\?code=/, 'signed in and consented: straight back')

  await page.goto(url({ prompt: 'login' }))
  t.match(await page.textContent('h1'), /Sign in to continue/, 'prompt=login: the login page again')
  await Promise.all([page.waitForURL(/\/callback\?/), signIn()])
  t.match(new URL(page.url()).searchParams.get('code'), /^[A-Za-z0-9_-]{43}$/, 'after signing in again: a code, no loop')

  await page.goto(url({ prompt: 'login' }))
  // What the reviewer did: a line break in the hidden request field.
  await page.evaluate(() => {
    const input = document.querySelector<HTMLInputElement>('#login input[name="request"]')!
    input.value = `${input.value}\r\nSet-Cookie: x=1`
  })
  await signIn()
  await page.waitForSelector('h1')
  t.match(await page.textContent('h1'), /Bad request/)
  t.match(await page.textContent('.error'), /This sign-in form was changed/)
})
