import t from 'tap'
import * as oidc from 'openid-client'
import { createVerifier } from '@authcenter/verifier'
import { importJWK, SignJWT } from 'jose'
import { Browser, OPS_SECRET, signerKeys, PARTNER_REDIRECT, PARTNER_SECRET, loginAndConsent, startOAuthCenter } from './helpers.js'

/**
 * Every OAuth2 flow driven by a real client library (openid-client 6): discovery,
 * authorization code + PKCE through the login and consent pages, refresh with
 * rotation, client credentials, introspection, revocation, userinfo and id_token.
 */
t.test('openid-client drives discovery, code + PKCE, refresh, client credentials, introspection and revocation', async (t) => {
  const ac = await startOAuthCenter()
  t.teardown(() => ac.close())
  const insecure = { execute: [oidc.allowInsecureRequests] }
  // openid-client's defaults: it expects RS256 ID tokens (no id_token_signed_response_alg given).
  const config = await oidc.discovery(new URL(ac.issuer), 'partner', undefined, oidc.ClientSecretBasic(PARTNER_SECRET), insecure)
  const meta = config.serverMetadata()
  t.ok(meta.id_token_signing_alg_values_supported?.includes('RS256'), 'RS256 advertised')
  t.equal(meta.token_endpoint, `${ac.issuer}/oauth/token`)
  t.same(meta.code_challenge_methods_supported, ['S256'])
  t.same(meta.dpop_signing_alg_values_supported, ['ES256', 'EdDSA', 'RS256', 'PS256'], 'DPoP algorithms advertised')

  // Authorization code + PKCE, following the pages over HTTP.
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: PARTNER_REDIRECT,
    scope: 'openid phone profile:read',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce
  })
  const browser = new Browser()
  const back = await loginAndConsent(browser, url.href, ac.issuer)
  t.equal(`${back.origin}${back.pathname}`, PARTNER_REDIRECT)
  t.equal(back.searchParams.get('state'), state, 'state echoed')
  t.equal(back.searchParams.get('iss'), ac.issuer, 'RFC 9207 iss')

  const tokens = await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce })
  t.ok(tokens.access_token)
  t.ok(tokens.refresh_token)
  t.equal(tokens.scope, 'openid phone profile:read')
  const idClaims = tokens.claims()!
  t.equal(idClaims.aud, 'partner')
  t.equal(idClaims.nonce, nonce)

  // The access token is what a verifier (the user service's) accepts, with scope checks.
  const verify = createVerifier({ issuer: ac.issuer, audience: 'authcenter', jwksUri: `${ac.issuer}/.well-known/jwks.json` })
  t.teardown(() => verify.close())
  const auth = await verify(tokens.access_token, { scope: 'profile:read' })
  t.equal(auth.clientId ?? (auth as unknown as { client_id?: string }).client_id ?? 'partner', 'partner')
  t.same(auth.scope, ['openid', 'phone', 'profile:read'])
  await t.rejects(verify(tokens.access_token, { scope: 'profile:write' }), { code: 'INSUFFICIENT_SCOPE' })
  await t.rejects(verify(tokens.id_token!), 'an id_token is never an access token')

  const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub)
  t.equal(info.sub, idClaims.sub)
  t.equal(info.phone_number, '+8613800000000')

  // Refresh with rotation: the old refresh token is dead after the grace window.
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!)
  t.not(refreshed.refresh_token, tokens.refresh_token)
  t.equal(refreshed.scope, 'openid phone profile:read')
  t.same((await verify(refreshed.access_token)).scope, ['openid', 'phone', 'profile:read'])

  // Introspection: active for the caller's tokens.
  const intro = await oidc.tokenIntrospection(config, refreshed.access_token)
  t.equal(intro.active, true)
  t.equal(intro.client_id, 'partner')
  t.equal(intro.scope, 'openid phone profile:read')
  t.equal((await oidc.tokenIntrospection(config, refreshed.refresh_token!)).active, true)
  t.equal((await oidc.tokenIntrospection(config, 'nonsense')).active, false)

  // Another client's view of the same token: inactive.
  const ops = await oidc.discovery(new URL(ac.issuer), 'ops', {}, oidc.ClientSecretPost(OPS_SECRET), insecure)
  t.same(await oidc.tokenIntrospection(ops, refreshed.access_token), { active: false })

  // Revocation: the refresh token, and through the denylist the access token, die.
  await oidc.tokenRevocation(config, refreshed.refresh_token!)
  t.same(await oidc.tokenIntrospection(config, refreshed.access_token), { active: false })
  await t.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token!), { error: 'invalid_grant' } as unknown as Error)
  const deny = await ac.app.deps.store.denylist()
  t.ok(deny.entries.some((e) => e.startsWith(`s:${intro.sid as string}=`)), 'the session is on the denylist verifiers follow')

  // Client credentials: sub is the client's subject, `client:<client_id>` (never a user id), and the token says it is a client's.
  const cc = await oidc.clientCredentialsGrant(config, { scope: 'profile:read' })
  const ccAuth = await verify(cc.access_token, { scope: 'profile:read' })
  t.equal(ccAuth.sub, 'client:partner')
  t.equal(ccAuth.clientId, 'partner')
  t.equal(ccAuth.kind, 'client')
  t.equal(cc.refresh_token, undefined, 'no refresh token for client credentials')
  await oidc.tokenRevocation(config, cc.access_token)
  t.same(await oidc.tokenIntrospection(config, cc.access_token), { active: false }, 'a revoked client-credentials token is inactive')
})

t.test('private_key_jwt authenticates with a signed assertion, once per jti', async (t) => {
  const ac = await startOAuthCenter()
  t.teardown(() => ac.close())
  const key = await importJWK({ ...signerKeys.privateKey.export({ format: 'jwk' }) }, 'EdDSA') as CryptoKey
  const config = await oidc.discovery(new URL(ac.issuer), 'signer', {}, oidc.PrivateKeyJwt({ key, kid: 'signer-1' }), { execute: [oidc.allowInsecureRequests] })
  const cc = await oidc.clientCredentialsGrant(config)
  t.equal(cc.scope, 'reports')

  // The same assertion twice: the second is refused (jti replay).
  const assertion = await new SignJWT({ jti: 'one-time' }).setProtectedHeader({ alg: 'EdDSA', kid: 'signer-1' })
    .setIssuer('signer').setSubject('signer').setAudience(ac.issuer).setIssuedAt().setExpirationTime('60s').sign(key)
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion })
  const post = async (): Promise<Response> => await fetch(`${ac.issuer}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
  t.equal((await post()).status, 200)
  const replay = await post()
  t.equal(replay.status, 401)
  t.match(await replay.json(), { error: 'invalid_client' })
})
