import t from 'tap'
import { createHash, randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { verifierPlugin } from '../src/fastify.js'
import { createVerifier, TokenError } from '../src/index.js'
import { AUDIENCE, makeKey, startAuthServer, token, verifierDefaults } from './helpers.js'

const key = await makeKey('EdDSA')
const server = await startAuthServer([key.jwk])
t.teardown(() => server.close())

async function holder () {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(publicKey)
  return {
    jkt: await calculateJwkThumbprint(jwk, 'sha256'),
    proof: async (htm: string, htu: string, accessToken: string, extra: Record<string, unknown> = {}) =>
      new SignJWT({ jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000), ath: createHash('sha256').update(accessToken).digest('base64url'), ...extra })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .sign(privateKey)
  }
}

async function build (t: { teardown: (fn: () => unknown) => void }): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(verifierPlugin, { ...verifierDefaults, issuer: server.issuer, audience: AUDIENCE, publicUrl: 'https://api.example.com' })
  app.get('/me', { onRequest: app.authenticate() }, async (request) => ({ sub: request.auth.sub }))
  app.post('/me', { onRequest: app.authenticate() }, async (request) => ({ sub: request.auth.sub }))
  return app
}

t.test('a DPoP-bound token is accepted with the DPoP scheme and a proof of its key, per request', async (t) => {
  const app = await build(t)
  const h = await holder()
  const tok = token(server, key, { cnf: { jkt: h.jkt } })
  const proof = await h.proof('GET', 'https://api.example.com/me', tok)
  const ok = await app.inject({ url: '/me?x=1', headers: { authorization: `DPoP ${tok}`, dpop: proof } })
  t.equal(ok.statusCode, 200, ok.body)

  const cases: Array<[string, Record<string, string>]> = [
    ['copied without its key (Bearer)', { authorization: `Bearer ${tok}` }],
    ['DPoP scheme without a proof', { authorization: `DPoP ${tok}` }],
    ['a replayed proof', { authorization: `DPoP ${tok}`, dpop: proof }],
    ['a proof for another URL', { authorization: `DPoP ${tok}`, dpop: await h.proof('GET', 'https://api.example.com/other', tok) }],
    ['a proof for another method', { authorization: `DPoP ${tok}`, dpop: await h.proof('POST', 'https://api.example.com/me', tok) }],
    ['a proof by another key', { authorization: `DPoP ${tok}`, dpop: await (await holder()).proof('GET', 'https://api.example.com/me', tok) }],
    ['a proof for another token', { authorization: `DPoP ${tok}`, dpop: await h.proof('GET', 'https://api.example.com/me', 'other') }]
  ]
  for (const [name, headers] of cases) {
    const res = await app.inject({ url: '/me', headers })
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().code, 'INVALID_DPOP_PROOF', name)
    t.match(res.headers['www-authenticate'], /^DPoP .*error="invalid_dpop_proof"/, name)
  }
  const unbound = await app.inject({ url: '/me', headers: { authorization: `DPoP ${token(server, key)}`, dpop: await h.proof('GET', 'https://api.example.com/me', tok) } })
  t.equal(unbound.statusCode, 401, 'the DPoP scheme with an unbound token')
})

t.test('two DPoP headers are refused', async (t) => {
  const app = await build(t)
  const h = await holder()
  const tok = token(server, key, { cnf: { jkt: h.jkt } })
  const res = await app.inject({
    url: '/me',
    headers: { authorization: `DPoP ${tok}`, dpop: [await h.proof('GET', 'https://api.example.com/me', tok), await h.proof('GET', 'https://api.example.com/me', tok)] }
  })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'INVALID_DPOP_PROOF')
})

t.test('a cookie-bound token needs its fingerprint cookie', async (t) => {
  const app = await build(t)
  const fingerprint = 'f'.repeat(43)
  const tok = token(server, key, { cnf: { fgp: createHash('sha256').update(fingerprint).digest('base64url') } })
  const without = await app.inject({ url: '/me', headers: { authorization: `Bearer ${tok}` } })
  t.equal(without.statusCode, 401)
  t.equal(without.json().code, 'TOKEN_BINDING_MISMATCH')
  const wrong = await app.inject({ url: '/me', headers: { authorization: `Bearer ${tok}`, cookie: '__Host-ac_fgp=' + 'g'.repeat(43) } })
  t.equal(wrong.json().code, 'TOKEN_BINDING_MISMATCH')
  const ok = await app.inject({ url: '/me', headers: { authorization: `Bearer ${tok}`, cookie: `a=b; __Host-ac_fgp=${fingerprint}` } })
  t.equal(ok.statusCode, 200)
})

t.test('the framework-free verify refuses a bound token without its proof, and takes one', async (t) => {
  const verify = createVerifier({ ...verifierDefaults, issuer: server.issuer, audience: AUDIENCE })
  t.teardown(() => verify.close())
  const h = await holder()
  const tok = token(server, key, { cnf: { jkt: h.jkt } })
  await t.rejects(verify(tok), new TokenError('INVALID_DPOP_PROOF', 'a DPoP-bound token needs a DPoP proof'))
  const auth = await verify(tok, { scheme: 'DPoP', dpop: { proof: await h.proof('GET', 'https://x.test/a', tok), method: 'GET', url: 'https://x.test/a' } })
  t.equal(auth.sub, 'user-1')
})

t.test('with a nonce secret, a skewed client is told the nonce in DPoP-Nonce', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(verifierPlugin, { ...verifierDefaults, issuer: server.issuer, audience: AUDIENCE, publicUrl: 'https://api.example.com', dpop: { nonceSecret: 'a-shared-secret-of-replicas' } })
  app.get('/me', { onRequest: app.authenticate() }, async (request) => ({ sub: request.auth.sub }))
  const h = await holder()
  const tok = token(server, key, { cnf: { jkt: h.jkt } })
  const skewed = Math.floor(Date.now() / 1000) - 3600
  const first = await app.inject({ url: '/me', headers: { authorization: `DPoP ${tok}`, dpop: await h.proof('GET', 'https://api.example.com/me', tok, { iat: skewed }) } })
  t.equal(first.statusCode, 401)
  t.equal(first.json().code, 'USE_DPOP_NONCE')
  t.match(first.headers['www-authenticate'], /error="use_dpop_nonce"/)
  const nonce = first.headers['dpop-nonce'] as string
  t.ok(nonce)
  const second = await app.inject({ url: '/me', headers: { authorization: `DPoP ${tok}`, dpop: await h.proof('GET', 'https://api.example.com/me', tok, { iat: skewed, nonce }) } })
  t.equal(second.statusCode, 200)
})
