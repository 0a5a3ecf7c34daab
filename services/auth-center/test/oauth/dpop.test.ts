import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { createVerifier } from '@authcenter/verifier'
import { claimsOf, dpopKey } from '../helpers/dpop.js'
import { BOUND_SECRET, Browser, PARTNER_REDIRECT, PARTNER_SECRET, loginAndConsent, startOAuthCenter } from './helpers.js'

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`


t.test('DPoP-bound OAuth2 tokens (RFC 9449 §5)', async (t) => {
  const ac = await startOAuthCenter()
  t.teardown(() => ac.close())
  const tokenUrl = `${ac.issuer}/oauth/token`
  const post = (form: Record<string, string>, headers: Record<string, string>) => fetch(tokenUrl, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form)
  })

  t.test('a client whose policy says dpop must send a proof; its tokens carry cnf.jkt', async (t) => {
    const none = await post({ grant_type: 'client_credentials' }, { authorization: basic('bound', BOUND_SECRET) })
    t.equal(none.status, 400)
    t.equal((await none.json() as { error: string }).error, 'invalid_dpop_proof')
    const key = await dpopKey()
    const ok = await post({ grant_type: 'client_credentials' }, { authorization: basic('bound', BOUND_SECRET), dpop: await key.proof(tokenUrl) })
    t.equal(ok.status, 200)
    const body = await ok.json() as { access_token: string, token_type: string }
    t.equal(body.token_type, 'DPoP')
    t.same(claimsOf(body.access_token).cnf, { jkt: key.jkt })

    const verify = createVerifier({ issuer: ac.issuer, audience: 'authcenter' })
    t.teardown(() => verify.close())
    await t.rejects(verify(body.access_token), { code: 'INVALID_DPOP_PROOF' }, 'copied without its key, the token is refused')
  })

  t.test('a code grant bound at the exchange refreshes only with the same key', async (t) => {
    const verifier = randomBytes(32).toString('base64url')
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    const back = await loginAndConsent(new Browser(), `${ac.issuer}/oauth/authorize?${new URLSearchParams({
      response_type: 'code', client_id: 'partner', redirect_uri: PARTNER_REDIRECT, scope: 'profile:read', state: 's', code_challenge: challenge, code_challenge_method: 'S256'
    })}`, ac.issuer)
    const key = await dpopKey()
    const auth = { authorization: basic('partner', PARTNER_SECRET) }
    const grant = await post({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: PARTNER_REDIRECT, code_verifier: verifier }, { ...auth, dpop: await key.proof(tokenUrl) })
    t.equal(grant.status, 200)
    const g = await grant.json() as { access_token: string, refresh_token: string, token_type: string }
    t.equal(g.token_type, 'DPoP', 'an optional proof binds the grant too')

    const refreshed = await post({ grant_type: 'refresh_token', refresh_token: g.refresh_token }, { ...auth, dpop: await key.proof(tokenUrl) })
    t.equal(refreshed.status, 200)
    const r = await refreshed.json() as { access_token: string, refresh_token: string }
    t.same(claimsOf(r.access_token).cnf, { jkt: key.jkt })

    const thief = await dpopKey()
    const stolen = await post({ grant_type: 'refresh_token', refresh_token: r.refresh_token }, { ...auth, dpop: await thief.proof(tokenUrl) })
    t.equal(stolen.status, 400)
    t.equal((await stolen.json() as { error: string }).error, 'invalid_grant', 'another key: refused and the grant revoked')
    const after = await post({ grant_type: 'refresh_token', refresh_token: r.refresh_token }, { ...auth, dpop: await key.proof(tokenUrl) })
    t.equal(after.status, 400, 'the grant is gone')
  })
})
