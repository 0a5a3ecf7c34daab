import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// The auth center's own OAuth test kit: its clients file and a minimal browser for the login and consent pages.
import { Browser, PARTNER_REDIRECT, PARTNER_SECRET, loginAndConsent, startOAuthCenter } from '../../auth-center/test/oauth/helpers.js'
import { build } from '../src/app.js'
import { loadConfig } from '../src/config.js'

/**
 * A third-party app gets a user's consent at the auth center (authorization code +
 * PKCE), then calls the user service with the access token: the verifier accepts it,
 * and the delegated scopes decide what it may do.
 */
t.test('an OAuth access token at the user service, within its scopes', async (t) => {
  const ac = await startOAuthCenter()
  const avatarDir = await mkdtemp(join(tmpdir(), 'us-oauth-'))
  const users = await build(loadConfig({ AUTH_ISSUER: ac.issuer, AVATAR_DIR: avatarDir, LOG_LEVEL: 'silent' }))
  const usersUrl = await users.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await users.close(); await ac.close(); await rm(avatarDir, { recursive: true, force: true }) })

  async function tokenFor (scope: string): Promise<{ access_token: string, scope: string }> {
    const verifier = randomBytes(32).toString('base64url')
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    const url = `${ac.issuer}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'partner', redirect_uri: PARTNER_REDIRECT, scope, state: 's', code_challenge: challenge, code_challenge_method: 'S256' })}`
    const back = await loginAndConsent(new Browser(), url, ac.issuer)
    const res = await fetch(`${ac.issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`partner:${PARTNER_SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: PARTNER_REDIRECT, code_verifier: verifier })
    })
    t.equal(res.status, 200)
    return await res.json() as { access_token: string, scope: string }
  }

  const reader = await tokenFor('openid profile:read')
  const mine = await fetch(`${usersUrl}/user/mine`, { headers: { authorization: `Bearer ${reader.access_token}` } })
  t.equal(mine.status, 200, 'the verifier accepts the third-party token')
  const write = await fetch(`${usersUrl}/user/username`, { method: 'PUT', headers: { authorization: `Bearer ${reader.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ username: 'Mallory' }) })
  t.equal(write.status, 403, 'but only within its scopes')
  t.equal((await write.json() as { code: string }).code, 'INSUFFICIENT_SCOPE')

  const writer = await tokenFor('profile:read profile:write')
  const ok = await fetch(`${usersUrl}/user/username`, { method: 'PUT', headers: { authorization: `Bearer ${writer.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ username: 'Ada' }) })
  t.equal(ok.status, 200)
})
