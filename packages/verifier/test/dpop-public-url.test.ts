import t from 'tap'
import { createHash, randomUUID } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { startRedis } from '@authcenter/testkit'
import { createRedisReplayCache } from '../src/dpop.js'
import { verifierPlugin, type VerifierPluginOptions } from '../src/fastify.js'
import { AUDIENCE, makeKey, startAuthServer, token, verifierDefaults } from './helpers.js'

// DPoP `htu` is checked against the service's configured public URL (never the Host
// header a client chooses), and the proof replay cache can be shared by replicas.
const key = await makeKey('EdDSA')
const server = await startAuthServer([key.jwk])
t.teardown(() => server.close())

async function holder () {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(publicKey)
  return {
    jkt: await calculateJwkThumbprint(jwk, 'sha256'),
    proof: async (htm: string, htu: string, accessToken: string) =>
      new SignJWT({ jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000), ath: createHash('sha256').update(accessToken).digest('base64url') })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .sign(privateKey)
  }
}

async function service (t: { teardown: (fn: () => unknown) => void }, extra: Partial<VerifierPluginOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(verifierPlugin, { ...verifierDefaults, issuer: server.issuer, audience: AUDIENCE, ...extra } as VerifierPluginOptions)
  app.get('/me', { onRequest: app.authenticate() }, async (request) => ({ sub: request.auth.sub }))
  return app
}

/** A real HTTP GET with a Host header of our choosing (fetch does not let a caller set Host). */
function get (url: string, headers: Record<string, string>): Promise<{ status: number, code?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += String(c) })
      res.on('end', () => { resolve({ status: res.statusCode!, code: body === '' ? undefined : (JSON.parse(body) as { code?: string }).code }) })
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('a spoofed Host header does not change what htu must be', async (t) => {
  const app = await service(t, { publicUrl: 'https://api.example.com' })
  const h = await holder()
  const tok = token(server, key, { cnf: { jkt: h.jkt } })
  const spoofed = await app.inject({ url: '/me', headers: { host: 'evil.test', authorization: `DPoP ${tok}`, dpop: await h.proof('GET', 'http://evil.test/me', tok) } })
  t.equal(spoofed.statusCode, 401, 'a proof for the Host the client claims is refused')
  t.equal(spoofed.json().code, 'INVALID_DPOP_PROOF')
  const forwarded = await app.inject({ url: '/me', headers: { host: 'evil.test', 'x-forwarded-host': 'evil.test', authorization: `DPoP ${tok}`, dpop: await h.proof('GET', 'https://evil.test/me', tok) } })
  t.equal(forwarded.statusCode, 401, 'nor one for a forwarded host')
  const ok = await app.inject({ url: '/me', headers: { host: 'evil.test', authorization: `DPoP ${tok}`, dpop: await h.proof('GET', 'https://api.example.com/me', tok) } })
  t.equal(ok.statusCode, 200, 'a proof for the public URL is accepted whatever Host says')
})

t.test('without publicUrl: the address the server listens on (and localhost for loopback), not the Host header', async (t) => {
  const app = await service(t)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const port = new URL(base).port
  const h = await holder()
  const tok = token(server, key, { cnf: { jkt: h.jkt } })
  for (const htu of [`http://127.0.0.1:${port}/me`, `http://localhost:${port}/me`]) {
    const res = await get(`${base}/me`, { authorization: `DPoP ${tok}`, dpop: await h.proof('GET', htu, tok) })
    t.equal(res.status, 200, htu)
  }
  const spoofed = await get(`${base}/me`, { host: 'evil.test', authorization: `DPoP ${tok}`, dpop: await h.proof('GET', 'http://evil.test/me', tok) })
  t.equal(spoofed.status, 401, 'a Host header naming another server does not make its htu valid')
  t.equal(spoofed.code, 'INVALID_DPOP_PROOF')
})

t.test('publicUrl may be a list, and carry the path a gateway mounts the service on', async (t) => {
  const app = await service(t, { publicUrl: ['https://api.example.com', 'https://gateway.example.com/users/'] })
  const h = await holder()
  const tok = token(server, key, { cnf: { jkt: h.jkt } })
  for (const htu of ['https://api.example.com/me', 'https://gateway.example.com/users/me']) {
    const res = await app.inject({ url: '/me', headers: { authorization: `DPoP ${tok}`, dpop: await h.proof('GET', htu, tok) } })
    t.equal(res.statusCode, 200, htu)
  }
  const other = await app.inject({ url: '/me', headers: { authorization: `DPoP ${tok}`, dpop: await h.proof('GET', 'https://gateway.example.com/me', tok) } })
  t.equal(other.statusCode, 401, 'the gateway without the mount path')
})

t.test('a bad publicUrl fails the registration', async (t) => {
  for (const publicUrl of ['api.example.com', 'https://api.example.com/?q=1', 'ftp://x', [], [42]]) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(verifierPlugin, { ...verifierDefaults, issuer: server.issuer, audience: AUDIENCE, publicUrl } as never); await app.ready() }, TypeError, JSON.stringify(publicUrl))
    await app.close()
  }
})

t.test('replicas sharing a Redis replay cache refuse a proof any of them has seen', async (t) => {
  const redisServer = await startRedis()
  t.teardown(() => redisServer.close())
  const redis = new Redis(redisServer.url, { lazyConnect: false })
  t.teardown(() => redis.quit())
  const shared = { publicUrl: 'https://api.example.com', dpop: { replay: createRedisReplayCache(redis, { prefix: 'api:dpop:' }) } }
  const one = await service(t, shared)
  const two = await service(t, shared)
  const h = await holder()
  const tok = token(server, key, { cnf: { jkt: h.jkt } })
  const proof = await h.proof('GET', 'https://api.example.com/me', tok)
  const first = await one.inject({ url: '/me', headers: { authorization: `DPoP ${tok}`, dpop: proof } })
  t.equal(first.statusCode, 200)
  const replayed = await two.inject({ url: '/me', headers: { authorization: `DPoP ${tok}`, dpop: proof } })
  t.equal(replayed.statusCode, 401, 'the same proof at the other replica')
  t.equal(replayed.json().code, 'INVALID_DPOP_PROOF')
  const fresh = await two.inject({ url: '/me', headers: { authorization: `DPoP ${tok}`, dpop: await h.proof('GET', 'https://api.example.com/me', tok) } })
  t.equal(fresh.statusCode, 200, 'a fresh proof at the other replica')
  const keys = await redis.keys('api:dpop:*')
  t.equal(keys.length, 2, 'one key per proof seen')
  const ttl = await redis.pttl(keys[0]!)
  t.ok(ttl > 0 && ttl <= 66_000, `expires with the proof window (${ttl} ms)`)

  const alone = await service(t, { publicUrl: 'https://api.example.com' })
  const again = await alone.inject({ url: '/me', headers: { authorization: `DPoP ${tok}`, dpop: proof } })
  t.equal(again.statusCode, 200, 'a replica with its own in-memory cache would not know (why the cache is shared)')
})

t.test('createRedisReplayCache checks its arguments', async (t) => {
  t.throws(() => createRedisReplayCache({} as never), TypeError)
  t.throws(() => createRedisReplayCache({ set: async () => 'OK' }, { prefix: 1 as never }), TypeError)
})
