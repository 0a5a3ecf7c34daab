import t from 'tap'
import Fastify from 'fastify'
import { Writable } from 'node:stream'
import { verifierPlugin } from '../src/fastify.js'
import { AUDIENCE, makeKey, recordingLogger, refuses, startAuthServer, token, verifierFor } from './helpers.js'

const OAUTH = '/.well-known/oauth-authorization-server'

t.test('an issuer that differs from the metadata (localhost vs 127.0.0.1) says so in the error and warns once', async (t) => {
  const key = await makeKey('EdDSA')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const logger = recordingLogger()
  const localhost = server.issuer.replace('127.0.0.1', 'localhost')
  // cooldownDuration 0: every call retries the load, so a log per attempt would show.
  const verify = verifierFor(t, server, { issuer: localhost, logger, cooldownDuration: 0 })
  const tok = token(server, key, { iss: localhost })
  for (let i = 0; i < 3; i++) {
    const err = await refuses(t, verify, tok, 'JWKS_UNAVAILABLE', `attempt ${i + 1}`)
    t.equal(err?.statusCode, 503)
    t.match(err?.message, `names the issuer "${server.issuer}", not "${localhost}"`, 'the message gives both issuers')
  }
  t.equal(server.count(OAUTH), 3, 'each call tried again')
  t.equal(logger.calls.length, 1, 'logged once, not once per attempt')
  t.equal(logger.calls[0]?.level, 'warn')
  t.equal(logger.calls[0]?.obj.issuer, localhost)
  t.match(logger.calls[0]?.obj.reason, `names the issuer "${server.issuer}", not "${localhost}"`)
  t.notMatch(JSON.stringify(logger.calls), tok, 'the token is not logged')
})

t.test('an issuer with a wrong path says which URL answered 404, and the recovery is logged once', async (t) => {
  const key = await makeKey('EdDSA')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const logger = recordingLogger()
  const verify = verifierFor(t, server, { issuer: `${server.issuer}/realms/main`, logger, cooldownDuration: 0 })
  const err = await refuses(t, verify, token(server, key, { iss: `${server.issuer}/realms/main` }), 'JWKS_UNAVAILABLE', 'wrong path')
  t.match(err?.message, `GET ${server.issuer}/realms/main${OAUTH} answered 404`)
  t.match(err?.message, `GET ${server.issuer}/realms/main/.well-known/openid-configuration answered 404`)
  t.same(logger.calls.map((c) => c.level), ['warn'])

  // The metadata is wrong, then right: one more warn for the new reason, one info for the recovery.
  const fixable = recordingLogger()
  server.metadataIssuer = 'https://elsewhere.example'
  const verify2 = verifierFor(t, server, { logger: fixable, cooldownDuration: 0 })
  await refuses(t, verify2, token(server, key), 'JWKS_UNAVAILABLE', 'foreign metadata')
  await refuses(t, verify2, token(server, key), 'JWKS_UNAVAILABLE', 'still foreign')
  delete server.metadataIssuer
  t.equal((await verify2(token(server, key))).sub, 'user-1')
  t.same(fixable.calls.map((c) => [c.level, c.msg]), [
    ['warn', 'cannot load the verification keys: tokens are answered 503 JWKS_UNAVAILABLE'],
    ['info', 'verification keys loaded after earlier failures']
  ])
})

t.test('under the Fastify plugin the 503 names the reason and app.log gets one warning', async (t) => {
  const key = await makeKey('EdDSA')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done() } })
  const app = Fastify({ logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  const localhost = server.issuer.replace('127.0.0.1', 'localhost')
  await app.register(verifierPlugin, { issuer: localhost, audience: AUDIENCE, cooldownDuration: 0 })
  app.get('/me', { onRequest: app.authenticate() }, async (request) => ({ sub: request.auth.sub }))
  for (let i = 0; i < 2; i++) {
    const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token(server, key, { iss: localhost })}` } })
    t.equal(res.statusCode, 503)
    t.equal(res.json().code, 'JWKS_UNAVAILABLE')
    t.match(res.json().message, `not "${localhost}"`)
  }
  const warnings = lines.filter((l) => l.level === 40)
  t.equal(warnings.length, 1, 'one warning for two refused requests')
  t.equal(warnings[0]?.issuer, localhost)
})
