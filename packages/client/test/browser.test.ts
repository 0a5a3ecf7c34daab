import t, { type Test } from 'tap'
import { existsSync } from 'node:fs'
import type { BrowserContext, Page } from 'playwright-core'
import { freePort } from '@authcenter/testkit'
import { startFront, type Front, type RefreshSeen } from './helpers/front.js'
import { MOBILE, OTP, adminLogout, startStack, type Stack } from './helpers/stack.js'

const CHROMIUM = '/usr/bin/chromium'
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install -y chromium)`

/** Access tokens live 3 s; each tab calls the user service back to back for LOOP_MS. */
const TTL = '3s'
const TTL_MS = 3000
const LOOP_MS = 6000

interface LoopResult { calls: number, ok: number, failures: unknown[] }
declare const demo: {
  logouts: string[]
  login: (mobile: string, code: string) => Promise<{ userId: string }>
  session: () => Promise<{ kind: string } | undefined>
  loop: (ms: number, opts?: { untilLoggedOut?: boolean }) => Promise<LoopResult>
}

/** What the multi-tab runs measured, printed at the end for the README and the report. */
const figures: string[] = []

t.test('the demo page in headless Chromium, several tabs of one origin', { skip }, async (t) => {
  const { chromium } = await import('playwright-core')
  let stack: Stack | undefined
  const front = await startFront(await freePort(), () => ({ authUrl: stack!.authUrl, usersUrl: stack!.usersUrl }))
  t.teardown(() => front.close())
  frontOrigin = front.origin
  // PUBLIC_URL: the user service checks the DPoP htu against its public origin, which is the front's.
  stack = await startStack(t, { issuer: front.origin, authEnv: { ACCESS_TOKEN_TTL: TTL }, usersEnv: { PUBLIC_URL: front.origin } })
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  t.teardown(() => browser.close())

  const context = await browser.newContext()
  const tabs: Page[] = [await open(context, '/')]
  const { userId } = await tabs[0]!.evaluate(async ([m, c]) => await demo.login(m!, c!), [MOBILE, OTP])
  tabs.push(await open(context, '/'))
  t.equal((await tabs[1]!.evaluate(async () => await demo.session()))?.kind, 'refresh', 'the second tab found the session in IndexedDB')

  t.test('two tabs: every call succeeds, one rotation per expiry, nobody logged out', async (t) => {
    await multiTab(t, front, tabs, 'two tabs')
  })

  t.test('five tabs: the same', async (t) => {
    while (tabs.length < 5) tabs.push(await open(context, '/'))
    await multiTab(t, front, tabs, 'five tabs')
  })

  t.test('a refresh answer cut off in flight: the session survives through the grace window', async (t) => {
    front.reset()
    front.abortNextRefresh()
    const results = await Promise.all(tabs.map(async (p) => await p.evaluate(async (ms) => await demo.loop(ms), LOOP_MS)))
    t.same(results.flatMap((r) => r.failures), [], 'every call succeeded')
    const cut = front.refreshes.filter((r) => r.aborted)
    t.equal(cut.length, 1, 'one answer was cut')
    t.equal(cut[0]!.status, 200, 'after the auth center had rotated')
    // The tab asked again with the same token and got the same successor (grace), so the
    // generation presented right after the cut one is the same, and nothing else repeats.
    const i = front.refreshes.indexOf(cut[0]!)
    t.equal(front.refreshes[i + 1]?.gen, cut[0]!.gen, 'the retry presented the same refresh token')
    t.equal(front.refreshes[i + 1]?.status, 200)
    t.same(rotations(front.refreshes.filter((r) => r !== cut[0])), consecutive(front.refreshes.filter((r) => r !== cut[0])))
    t.ok(minGap(front.refreshes) >= 0.5 * TTL_MS, `rotations at least half a lifetime apart (closest: ${minGap(front.refreshes)} ms)`)
    for (const p of tabs) t.same(await p.evaluate(() => demo.logouts), [])
    const calls = results.reduce((n, r) => n + r.calls, 0)
    figures.push(`cut refresh, ${tabs.length} tabs, ${LOOP_MS / 1000} s: ${calls} calls, ${results.flatMap((r) => r.failures).length} failures, ` +
      `${front.refreshes.length} refresh requests (1 cut + its retry), ${new Set(front.refreshes.map((r) => r.gen)).size} rotations, 0 logged out`)
  })

  t.test('an admin revokes the session: every tab gets the logged-out event, once', async (t) => {
    const looping = tabs.map(async (p) => await p.evaluate(async (ms) => await demo.loop(ms, { untilLoggedOut: true }), 15_000))
    await new Promise((resolve) => setTimeout(resolve, 500))
    await adminLogout(stack!, userId)
    await Promise.all(looping)
    for (const [i, p] of tabs.entries()) {
      const reasons = await p.evaluate(() => demo.logouts)
      t.equal(reasons.length, 1, `tab ${i + 1} was told once`)
      t.match(reasons[0], /^(TOKEN_REVOKED|SESSION_REVOKED)$/)
      t.equal(await p.evaluate(async () => await demo.session()), undefined)
    }
  })

  t.test('DPoP in the browser: a non-extractable key in IndexedDB, proofs that verify at the user service', async (t) => {
    const ctx = await browser.newContext()
    t.teardown(() => ctx.close()) // its tabs would keep renewing in the background
    const pages = [await open(ctx, '/?client=app&dpop')]
    await pages[0]!.evaluate(async ([m, c]) => await demo.login(m!, c!), [MOBILE, OTP])
    pages.push(await open(ctx, '/?client=app&dpop'))
    const key = await pages[1]!.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('authcenter', 1)
        req.onsuccess = () => { resolve(req.result) }
        req.onerror = () => { reject(req.error) }
      })
      const all = await new Promise<unknown[]>((resolve) => {
        const req = db.transaction('kv').objectStore('kv').getAll()
        req.onsuccess = () => { resolve(req.result) }
      })
      const stored = all.find((v) => (v as { privateKey?: unknown }).privateKey !== undefined) as { privateKey: CryptoKey }
      let exported = 'exported'
      try { await crypto.subtle.exportKey('jwk', stored.privateKey) } catch (e) { exported = (e as Error).name }
      return { extractable: stored.privateKey.extractable, type: stored.privateKey.type, exported }
    })
    t.same(key, { extractable: false, type: 'private', exported: 'InvalidAccessError' })
    front.reset()
    const results = await Promise.all(pages.map(async (p) => await p.evaluate(async (ms) => await demo.loop(ms), LOOP_MS)))
    t.same(results.flatMap((r) => r.failures), [], 'every call succeeded')
    t.ok(front.userCalls.length > 0 && front.userCalls.every((c) => c.scheme === 'DPoP' && c.status === 200), 'every call used the DPoP scheme and was accepted')
    t.ok(front.refreshes.length > 0 && front.refreshes.every((r) => r.status === 200), 'bound refreshes carried valid proofs')
    t.same(rotations(front.refreshes), consecutive(front.refreshes))
    t.ok(minGap(front.refreshes) >= 0.5 * TTL_MS, `rotations at least half a lifetime apart (closest: ${minGap(front.refreshes)} ms)`)
    figures.push(`DPoP, 2 tabs, ${LOOP_MS / 1000} s: ${results.reduce((n, r) => n + r.calls, 0)} calls, 0 failures, ${front.refreshes.length} rotations`)

    // A tab whose first act is a renewal: it takes the key from IndexedDB while holding the renewal lock.
    for (const p of pages) await p.close()
    await new Promise((resolve) => setTimeout(resolve, 3500)) // the access token has expired, nobody renewed it
    front.reset()
    const late = await open(ctx, '/?client=app&dpop')
    const r = await late.evaluate(async () => await demo.loop(300))
    t.same(r.failures, [], 'no failure (and no deadlock)')
    t.equal(r.ok, r.calls)
    t.equal(front.userCalls.length, r.calls)
    t.same(front.refreshes.map((x) => x.status), [200], 'one bound renewal, first thing')
  })

  t.test('a device clock 10 minutes ahead: the auth center hands out a DPoP nonce, the client retries once with it', async (t) => {
    const ctx = await browser.newContext()
    t.teardown(() => ctx.close())
    await ctx.addInitScript(() => { const now = Date.now; Date.now = () => now() + 600_000 })
    front.reset()
    const page = await open(ctx, '/?client=app&dpop')
    await page.evaluate(async ([m, c]) => await demo.login(m!, c!), [MOBILE, OTP])
    t.same(front.log.filter((r) => r.path === '/auth/login').map((r) => r.status), [400, 200], 'USE_DPOP_NONCE, then accepted with the nonce')
    await page.evaluate(async () => await new Promise((resolve) => setTimeout(resolve, 3500)))
    t.equal(await page.evaluate(async () => (await demo.session())?.kind), 'refresh')
    t.same(front.log.filter((r) => r.path === '/auth/refresh').map((r) => r.status), [200], 'the proactive refresh, with the remembered nonce, passes at once')
  })

  t.test('without the Web Locks API (BroadcastChannel fallback): every call succeeds, a simultaneous refresh gets the grace answer', async (t) => {
    const ctx = await browser.newContext()
    t.teardown(() => ctx.close()) // its tabs would keep renewing in the background
    await ctx.addInitScript(() => { Object.defineProperty(navigator, 'locks', { value: undefined }) })
    const pages = [await open(ctx, '/')]
    t.equal(await pages[0]!.evaluate(() => navigator.locks), undefined)
    await pages[0]!.evaluate(async ([m, c]) => await demo.login(m!, c!), [MOBILE, OTP])
    pages.push(await open(ctx, '/'))
    front.reset()
    const results = await Promise.all(pages.map(async (p) => await p.evaluate(async (ms) => await demo.loop(ms), LOOP_MS)))
    t.same(results.flatMap((r) => r.failures), [], 'every call succeeded')
    t.ok(front.refreshes.length > 0 && front.refreshes.every((r) => r.status === 200), 'no refresh was refused')
    const gens = [...new Set(front.refreshes.map((r) => r.gen))]
    t.same(gens, gens.map((_, i) => gens[0]! + i), 'each generation presented in turn (a repeat is the grace answer)')
    t.ok(minGap(front.refreshes) >= 0.5 * TTL_MS, `rotations at least half a lifetime apart (closest: ${minGap(front.refreshes)} ms)`)
    for (const p of pages) t.same(await p.evaluate(() => demo.logouts), [])
    figures.push(`no Web Locks (BroadcastChannel), 2 tabs, ${LOOP_MS / 1000} s: ${results.reduce((n, r) => n + r.calls, 0)} calls, 0 failures, ` +
      `${front.refreshes.length} refresh requests, ${gens.length} rotations, 0 logged out`)
  })

  t.test('the fingerprint-cookie policy: the __Host- cookie goes along, no script can read it', async (t) => {
    const ctx = await browser.newContext()
    t.teardown(() => ctx.close()) // its tabs would keep renewing in the background
    const pages = [await open(ctx, '/?client=web')]
    await pages[0]!.evaluate(async ([m, c]) => await demo.login(m!, c!), [MOBILE, OTP])
    const cookies = await ctx.cookies()
    t.match(cookies.find((c) => c.name === '__Host-ac_fgp'), { httpOnly: true, secure: true, sameSite: 'Strict' })
    t.equal(await pages[0]!.evaluate(() => document.cookie), '', 'HttpOnly: invisible to the page')
    pages.push(await open(ctx, '/?client=web'))
    front.reset()
    const results = await Promise.all(pages.map(async (p) => await p.evaluate(async (ms) => await demo.loop(ms), LOOP_MS)))
    t.same(results.flatMap((r) => r.failures), [], 'every call succeeded')
    t.ok(front.refreshes.length > 0 && front.refreshes.every((r) => r.status === 200), 'refreshes with the cookie')
    t.same(rotations(front.refreshes), consecutive(front.refreshes))
    t.ok(minGap(front.refreshes) >= 0.5 * TTL_MS, `rotations at least half a lifetime apart (closest: ${minGap(front.refreshes)} ms)`)
  })

  t.teardown(() => { process.stdout.write(`# multi-tab figures (access TTL ${TTL}):\n${figures.map((f) => `#   ${f}\n`).join('')}`) })
})

async function open (context: BrowserContext, path: string): Promise<Page> {
  const page = await context.newPage()
  await page.goto(frontOrigin + path)
  await page.waitForFunction(() => typeof (globalThis as { demo?: unknown }).demo === 'object')
  return page
}
let frontOrigin = ''

/** Every tab loops at once; then the counts at the front door (what the auth center answered). */
async function multiTab (t: Test, front: Front, tabs: Page[], label: string): Promise<void> {
  front.reset()
  const results = await Promise.all(tabs.map(async (p) => await p.evaluate(async (ms) => await demo.loop(ms), LOOP_MS)))
  const calls = results.reduce((n, r) => n + r.calls, 0)
  t.same(results.flatMap((r) => r.failures), [], 'every call succeeded')
  t.equal(results.reduce((n, r) => n + r.ok, 0), calls)
  t.equal(front.userCalls.length, calls, 'the user service saw every call')
  t.ok(front.refreshes.length > 0, 'the token was renewed while the tabs ran')
  // One rotation per expiry: every refresh presented the previous one's successor, none was refused,
  // and no two came within one token's lifetime (the timer renews at 70-80 % of it; a slow machine only delays).
  t.same(rotations(front.refreshes), consecutive(front.refreshes))
  t.ok(minGap(front.refreshes) >= 0.5 * TTL_MS, `rotations at least half a lifetime apart (closest: ${minGap(front.refreshes)} ms)`)
  t.ok(front.refreshes.every((r) => r.status === 200))
  for (const p of tabs) t.same(await p.evaluate(() => demo.logouts), [], 'not logged out')
  figures.push(`${label}, ${LOOP_MS / 1000} s: ${calls} calls, 0 failures, ${front.refreshes.length} refresh requests = ` +
    `${new Set(front.refreshes.map((r) => r.gen)).size} rotations, ${new Set(front.userCalls.map((c) => c.token)).size} access tokens used, 0 logged out`)
}

const rotations = (seen: RefreshSeen[]): number[] => seen.map((r) => r.gen)
/** The shortest time between two refreshes that presented different tokens (a retry of a cut answer is not a new rotation). */
function minGap (seen: RefreshSeen[]): number {
  let min = Infinity
  for (let i = 1; i < seen.length; i++) if (seen[i]!.gen !== seen[i - 1]!.gen) min = Math.min(min, seen[i]!.at - seen[i - 1]!.at)
  return min
}
/** The generations a run without duplicates presents: g, g+1, g+2, … */
const consecutive = (seen: RefreshSeen[]): number[] => seen.map((_, i) => seen[0]!.gen + i)
