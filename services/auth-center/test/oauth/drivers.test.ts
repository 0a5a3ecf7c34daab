import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { eachDriver } from '../helpers/drivers.js'
import { Browser, PARTNER_REDIRECT, PARTNER_SECRET, loginAndConsent, startOAuthCenter } from './helpers.js'

const auth = { authorization: `Basic ${Buffer.from(`partner:${PARTNER_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }

t.test('codes, consents and grants behave the same on both store drivers', async (t) => {
  await eachDriver(t, async (t, env) => {
    const ac = await startOAuthCenter(env)
    t.teardown(() => ac.close())
    const verifier = randomBytes(32).toString('base64url')
    const params = new URLSearchParams({
      response_type: 'code', client_id: 'partner', redirect_uri: PARTNER_REDIRECT, scope: 'openid profile:read', state: 's',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256'
    })
    const browser = new Browser()
    const back = await loginAndConsent(browser, `${ac.issuer}/oauth/authorize?${params}`, ac.issuer)
    const form = new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: PARTNER_REDIRECT, code_verifier: verifier })
    const exchange = async (): Promise<Response> => await fetch(`${ac.issuer}/oauth/token`, { method: 'POST', headers: auth, body: form })
    const refresh = async (rt: string): Promise<number> => (await fetch(`${ac.issuer}/oauth/token`, { method: 'POST', headers: auth, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt }) })).status
    const first = await exchange()
    t.equal(first.status, 200)
    const { refresh_token: rt } = await first.json() as { refresh_token: string }
    t.equal((await exchange()).status, 400, 'single use')
    t.equal(await refresh(rt), 400, 'the replay revoked the grant')

    // Ten exchanges of one code at once: at most one gets tokens, and the replays kill that grant too.
    const next = await loginAndConsent(browser, `${ac.issuer}/oauth/authorize?${params}`, ac.issuer)
    form.set('code', next.searchParams.get('code')!)
    const all = await Promise.all(Array.from({ length: 10 }, exchange))
    const won = all.filter((r) => r.status === 200)
    t.ok(won.length <= 1, 'atomic take')
    for (const r of won) t.equal(await refresh((await r.json() as { refresh_token: string }).refresh_token), 400)

    // Consent is remembered: the next authorization goes straight back with a code.
    const again = await browser.get(`${ac.issuer}/oauth/authorize?${params}`)
    t.equal(again.status, 303)
    t.match(again.headers.get('location'), /^https:\/\/partner\.example\/cb\?code=/)
  })
})
