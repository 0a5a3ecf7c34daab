import t, { type Test } from 'tap'
import { createHash, randomUUID } from 'node:crypto'
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'
import { checkDpopProof, createDpopNonces, createMemoryReplayCache, DpopError, FINGERPRINT_COOKIE, fingerprintHash, fingerprintMatches, jwkThumbprint, readCookie, type DpopCheckOptions } from '../src/dpop.js'

const URL_ = 'https://api.example.com/user/mine'

async function holder (alg: 'ES256' | 'EdDSA' = 'ES256') {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = await exportJWK(publicKey)
  const privateJwk = await exportJWK(privateKey)
  return {
    jwk,
    privateJwk,
    jkt: await calculateJwkThumbprint(jwk, 'sha256'),
    async proof (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
      return new SignJWT({ jti: randomUUID(), htm: 'GET', htu: URL_, iat: Math.floor(Date.now() / 1000), ...claims })
        .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk, ...header })
        .sign(privateKey)
    }
  }
}

const ath = (token: string): string => createHash('sha256').update(token).digest('base64url')

async function refused (t: Test, opts: DpopCheckOptions, code = 'INVALID_DPOP_PROOF', why?: string): Promise<DpopError | undefined> {
  try {
    await checkDpopProof(opts)
    t.fail(`accepted: ${why ?? ''}`)
  } catch (err) {
    t.ok(err instanceof DpopError, why ?? code)
    t.equal((err as DpopError).code, code, why ?? code)
    return err as DpopError
  }
}

t.test('accepts a proper proof and returns the RFC 7638 thumbprint jose computes', async (t) => {
  for (const alg of ['ES256', 'EdDSA'] as const) {
    const h = await holder(alg)
    const token = 'access.token.here'
    const r = await checkDpopProof({ proof: await h.proof({ ath: ath(token) }), method: 'get', url: URL_ + '?x=1#f', accessToken: token, jkt: h.jkt, replay: createMemoryReplayCache() })
    t.equal(r.jkt, h.jkt, alg)
    t.equal(jwkThumbprint(h.jwk as never), h.jkt)
  }
})

t.test('refuses each violation of RFC 9449 §4.3', async (t) => {
  const h = await holder()
  const other = await holder()
  const replay = createMemoryReplayCache()
  const token = 'access.token.here'
  const base = { method: 'GET', url: URL_, replay }
  const now = Math.floor(Date.now() / 1000)
  await refused(t, { ...base, proof: undefined }, undefined, 'no proof')
  await refused(t, { ...base, proof: [await h.proof(), await h.proof()] }, undefined, 'two DPoP headers')
  await refused(t, { ...base, proof: 'not.a.jwt' }, undefined, 'garbage')
  await refused(t, { ...base, proof: await h.proof({}, { typ: 'JWT' }) }, undefined, 'wrong typ')
  await refused(t, { ...base, proof: await h.proof({}, { jwk: h.privateJwk as JWK }) }, undefined, 'private key in jwk')
  await refused(t, { ...base, proof: await h.proof({}, { jwk: other.jwk }) }, undefined, 'signature by another key')
  await refused(t, { ...base, proof: await h.proof({ htm: 'POST' }) }, undefined, 'other method')
  await refused(t, { ...base, proof: await h.proof({ htu: 'https://api.example.com/user/other' }) }, undefined, 'other URL')
  await refused(t, { ...base, proof: await h.proof({ htu: 'https://evil.example.com/user/mine' }) }, undefined, 'other host')
  await refused(t, { ...base, proof: await h.proof({ iat: now - 3600 }) }, undefined, 'too old')
  await refused(t, { ...base, proof: await h.proof({ iat: now + 3600 }) }, undefined, 'from the future')
  await refused(t, { ...base, proof: await h.proof({ jti: undefined }) }, undefined, 'no jti')
  await refused(t, { ...base, accessToken: token, proof: await h.proof() }, undefined, 'no ath')
  await refused(t, { ...base, accessToken: token, proof: await h.proof({ ath: ath('another token') }) }, undefined, 'ath of another token')
  await refused(t, { ...base, accessToken: token, jkt: other.jkt, proof: await h.proof({ ath: ath(token) }) }, undefined, 'key not the bound one')

  const unsigned = Buffer.from(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk: h.jwk })).toString('base64url') + '.' +
    Buffer.from(JSON.stringify({ jti: randomUUID(), htm: 'GET', htu: URL_, iat: now })).toString('base64url') + '.AA'
  await refused(t, { ...base, proof: unsigned }, undefined, 'alg none')
})

t.test('a proof is single use: the replay is refused', async (t) => {
  const h = await holder()
  const replay = createMemoryReplayCache()
  const proof = await h.proof()
  await checkDpopProof({ proof, method: 'GET', url: URL_, replay })
  await refused(t, { proof, method: 'GET', url: URL_, replay }, undefined, 'replayed')
})

t.test('a client with a skewed clock gets USE_DPOP_NONCE and succeeds with the nonce', async (t) => {
  const h = await holder()
  const nonces = createDpopNonces('secret')
  const skewed = Math.floor(Date.now() / 1000) - 3600
  const err = await refused(t, { proof: await h.proof({ iat: skewed }), method: 'GET', url: URL_, replay: createMemoryReplayCache(), nonces }, 'USE_DPOP_NONCE')
  t.equal(err?.nonce, nonces.current())
  t.equal(err?.error, 'use_dpop_nonce')
  const ok = await checkDpopProof({ proof: await h.proof({ iat: skewed, nonce: err!.nonce }), method: 'GET', url: URL_, replay: createMemoryReplayCache(), nonces })
  t.equal(ok.jkt, h.jkt)
  await refused(t, { proof: await h.proof({ nonce: 'made-up' }), method: 'GET', url: URL_, replay: createMemoryReplayCache(), nonces }, 'USE_DPOP_NONCE', 'a nonce we never issued')
  t.notOk(createDpopNonces('other secret').accepts(nonces.current()), 'nonces are bound to the secret')
  const okNow = await checkDpopProof({ proof: await h.proof(), method: 'GET', url: URL_, replay: createMemoryReplayCache(), nonces })
  t.equal(okNow.jkt, h.jkt, 'a proof with a good clock needs no nonce')
})

t.test('fingerprint cookies: read, hashed and compared', async (t) => {
  t.equal(readCookie('a=1; __Host-ac_fgp=xyz; b=2', FINGERPRINT_COOKIE), 'xyz')
  t.equal(readCookie('a=1', FINGERPRINT_COOKIE), undefined)
  t.ok(fingerprintMatches('xyz', fingerprintHash('xyz')))
  t.notOk(fingerprintMatches('xyz2', fingerprintHash('xyz')))
  t.notOk(fingerprintMatches(undefined, fingerprintHash('xyz')))
})

t.test('the memory replay cache stays bounded', async (t) => {
  const cache = createMemoryReplayCache(100)
  const exp = Date.now() + 60_000
  for (let i = 0; i < 1000; i++) t.equal(cache.checkAndMark(`j${i}`, exp), true)
  t.equal(cache.checkAndMark('j999', exp), false, 'a recent one is still remembered')
})
