import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { freePort } from '@authcenter/testkit'
import { clientErrorCodes, sessionEndingCodes } from '../src/index.js'
import { startFront } from './helpers/front.js'
import { OTP, REPORTS_SECRET, startReportsService, startStack, type Stack } from './helpers/stack.js'

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
const CHROMIUM = '/usr/bin/chromium'

/** The code block after `<!-- snippet: name -->` in the root README. */
function snippet (name: string): string {
  const m = new RegExp(`<!-- snippet: ${name} -->\\n\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(README)
  if (m === null) throw new Error(`README has no ${name} snippet`)
  return m[1]!
}

/** What a snippet leaves to the app: the code the user types, the login screen; and its console, recorded. */
const PRELUDE = `const askForTheCode = async () => '${OTP}'\nconst showLogin = () => {}\nconst console = { log: (...args) => globalThis.__readme.push(args) }\n`

t.test('the README\'s Node snippet runs against the real auth center and user service', async (t) => {
  const stack = await startStack(t)
  const reportsUrl = await startReportsService(t, stack.issuer)
  const file = new URL('./readme-node.tmp.mjs', import.meta.url)
  t.teardown(() => rm(file, { force: true }))
  const code = snippet('node')
    .replaceAll('http://localhost:4000', stack.issuer)
    .replaceAll('http://localhost:4001', stack.usersUrl)
    .replaceAll('http://localhost:4002', reportsUrl)
    .replace("from '@authcenter/client'", `from '${new URL('../src/index.ts', import.meta.url).href}'`)
    .replace("from '@authcenter/client/node'", `from '${new URL('../src/node.ts', import.meta.url).href}'`)
  await writeFile(file, PRELUDE + code)
  const out: unknown[][] = []
  Object.assign(globalThis, { __readme: out })
  process.env.REPORTS_SECRET = REPORTS_SECRET
  await import(file.href)
  t.equal(out.length, 2)
  t.match(out[0]![0], { id: String, username: null })
  t.match(out[1]![0], { caller: /reports/, kind: 'client' })
})

t.test('the README\'s browser snippet runs in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing` }, async (t) => {
  const { chromium } = await import('playwright-core')
  let stack: Stack | undefined
  const front = await startFront(await freePort(), () => ({ authUrl: stack!.authUrl, usersUrl: stack!.usersUrl }))
  t.teardown(() => front.close())
  stack = await startStack(t, { issuer: front.origin })
  front.serve('/readme.js', PRELUDE.replace('globalThis.__readme', 'window.__readme') + snippet('browser').replace("from '@authcenter/client'", "from './sdk.js'"))
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  await page.goto(front.origin + '/')
  await page.evaluate(() => { Object.assign(window, { __readme: [] }) })
  await page.addScriptTag({ url: '/readme.js', type: 'module' })
  await page.waitForFunction(() => (window as unknown as { __readme: unknown[] }).__readme.length > 0)
  const out = await page.evaluate(() => (window as unknown as { __readme: unknown[][] }).__readme)
  t.equal(out.length, 1)
  t.equal(out[0]![0], 'signed in as')
  t.match(out[0]![1], /^[0-9a-f-]{36}$/)
})

t.test('the README names every code the SDK raises itself, and the session-ending ones', async (t) => {
  for (const code of [...Object.keys(clientErrorCodes), ...sessionEndingCodes]) t.match(README, `\`${code}\``, `${code} is documented`)
})

t.test('the package README\'s table lists exactly the codes the SDK raises itself', async (t) => {
  const own = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const rows = [...own.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1])
  t.same(rows.sort(), Object.keys(clientErrorCodes).sort())
})
