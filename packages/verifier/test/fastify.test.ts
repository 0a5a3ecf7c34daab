import t from 'tap'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { verifierPlugin } from '../src/fastify.js'
import { createVerifier } from '../src/index.js'
import { AUDIENCE, makeKey, startAuthServer, token } from './helpers.js'

const key = await makeKey('EdDSA')
const server = await startAuthServer([key.jwk])
t.teardown(() => server.close())

async function build (t: { teardown: (fn: () => unknown) => void }, options: Record<string, unknown> = {}): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(verifierPlugin, { issuer: server.issuer, audience: AUDIENCE, ...options })
  app.get('/me', { onRequest: app.authenticate() }, async (request) => ({ sub: request.auth.sub, scope: request.auth.scope }))
  app.put('/me', { onRequest: app.authenticate({ scope: 'profile:write' }) }, async (request) => ({ sub: request.auth.sub }))
  app.get('/admin', { onRequest: app.authenticate({ scope: ['admin', 'profile:read'] }) }, async () => ({ ok: true }))
  app.get('/public', async (request) => ({ auth: request.auth }))
  return app
}

const bearer = (tok: string): Record<string, string> => ({ authorization: `Bearer ${tok}` })

t.test('answers 200 and sets request.auth for a valid token', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/me', headers: bearer(token(server, key)) })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: 'user-1', scope: ['profile:read', 'profile:write'] })
  const put = await app.inject({ method: 'PUT', url: '/me', headers: { authorization: `bearer ${token(server, key)}` } })
  t.equal(put.statusCode, 200, 'the scheme is case-insensitive')
  const open = await app.inject({ url: '/public' })
  t.same(open.json(), { auth: null }, 'request.auth is null on routes without the hook')
})

t.test('answers 401 with a bare Bearer challenge when no token is sent', async (t) => {
  const app = await build(t)
  for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }]) {
    const res = await app.inject({ url: '/me', headers })
    t.equal(res.statusCode, 401)
    t.equal(res.headers['www-authenticate'], `Bearer realm="${AUDIENCE}"`)
    t.same(res.json(), { statusCode: 401, code: 'TOKEN_MISSING', error: 'Unauthorized', message: res.json().message })
    t.type(res.json().message, 'string')
  }
})

t.test('answers 401 invalid_token with the TokenError code for a bad token', async (t) => {
  const app = await build(t)
  const cases: Array<[string, string]> = [
    ['Bearer not-a-token', 'TOKEN_MALFORMED'],
    ['Bearer', 'TOKEN_MALFORMED'],
    ['Bearer a b', 'TOKEN_MALFORMED'],
    [`Bearer ${token(server, key, { exp: Math.floor(Date.now() / 1000) - 60 })}`, 'TOKEN_EXPIRED'],
    [`Bearer ${token(server, key, { aud: 'elsewhere' })}`, 'TOKEN_INVALID'],
    [`Bearer ${token(server, key, {}, { alg: 'HS256' })}`, 'TOKEN_INVALID']
  ]
  for (const [authorization, code] of cases) {
    const res = await app.inject({ url: '/me', headers: { authorization } })
    t.equal(res.statusCode, 401, code)
    const body = res.json()
    t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
    t.match(body, { statusCode: 401, code, error: 'Unauthorized' })
    const challenge = res.headers['www-authenticate']
    t.match(challenge, /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/, code)
    t.ok(String(challenge).includes(body.message.replace(/"/g, '')), 'the description is the message')
  }
})

t.test('answers 403 insufficient_scope naming the required scope', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'PUT', url: '/me', headers: bearer(token(server, key, { scope: 'profile:read' })) })
  t.equal(res.statusCode, 403)
  t.match(res.json(), { statusCode: 403, code: 'INSUFFICIENT_SCOPE', error: 'Forbidden' })
  t.match(res.headers['www-authenticate'], /^Bearer realm="api", error="insufficient_scope", error_description="[^"]+", scope="profile:write"$/)
  const admin = await app.inject({ url: '/admin', headers: bearer(token(server, key)) })
  t.equal(admin.statusCode, 403)
  t.match(admin.headers['www-authenticate'], /scope="admin profile:read"/)
})

t.test('answers 503 JWKS_UNAVAILABLE when no key can be fetched', async (t) => {
  const gone = await startAuthServer([key.jwk])
  await gone.close()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(verifierPlugin, { issuer: gone.issuer, audience: AUDIENCE, timeoutDuration: 500 })
  app.get('/me', { onRequest: app.authenticate() }, async () => ({}))
  const res = await app.inject({ url: '/me', headers: bearer(token(gone, key)) })
  t.equal(res.statusCode, 503)
  t.match(res.json(), { statusCode: 503, code: 'JWKS_UNAVAILABLE', error: 'Service Unavailable' })
  t.equal(res.headers['www-authenticate'], undefined)
})

t.test('uses a verifier it is given, and leaves closing it to its owner', async (t) => {
  const verifier = createVerifier({ issuer: server.issuer, audience: AUDIENCE, cooldownDuration: 0 })
  t.teardown(() => verifier.close())
  const app = Fastify()
  await app.register(verifierPlugin, { verifier, realm: 'users' })
  app.get('/me', { onRequest: app.authenticate() }, async (request) => ({ sub: request.auth.sub }))
  t.equal((await app.inject({ url: '/me', headers: bearer(token(server, key)) })).statusCode, 200)
  t.equal((await app.inject({ url: '/me' })).headers['www-authenticate'], 'Bearer realm="users"')
  await app.close()
  const rotated = await makeKey('EdDSA')
  server.keys = [key.jwk, rotated.jwk]
  t.teardown(() => { server.keys = [key.jwk] })
  t.ok(await verifier(token(server, rotated)), 'still fetches new keys after the app closed')
})

t.test('fails registration for bad options, before anything else', async (t) => {
  const bad: Array<Record<string, unknown>> = [
    { issuer: server.issuer },
    { issuer: server.issuer, audience: AUDIENCE, algorithms: ['HS256'] },
    { verifier: 'nope' },
    { verifier: createVerifier({ issuer: server.issuer, audience: AUDIENCE }), realm: 42 }
  ]
  for (const options of bad) {
    const app = Fastify()
    await t.rejects(async () => app.register(verifierPlugin, options as never).ready(), TypeError, JSON.stringify(options))
    await app.close()
  }
})

t.test('refuses to be registered twice', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(verifierPlugin, { issuer: server.issuer, audience: AUDIENCE })
  app.register(verifierPlugin, { issuer: server.issuer, audience: AUDIENCE })
  await t.rejects(async () => app.ready(), /already registered/)
})
