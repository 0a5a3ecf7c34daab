// One regression test per published advisory against jose, fast-jwt and
// jsonwebtoken that applies to a verifier like this one, named after it.
import t from 'tap'
import { createHmac, generateKeyPairSync } from 'node:crypto'
import { exportJWK } from 'jose'
import { createVerifier } from '../src/index.js'
import { AUDIENCE, b64, claims, craft, makeKey, refuses, startAuthServer, token, verifierFor } from './helpers.js'

const rsa = await makeKey('RS256')
const ed = await makeKey('EdDSA')
const es = await makeKey('ES256')
// A 1024-bit RSA key and a symmetric key published under their own kids:
// neither may ever verify anything.
const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
const weakJwk = { ...(await exportJWK(weak.publicKey)), kid: 'weak-rsa', alg: 'RS256', use: 'sig' }
const secret = Buffer.from('a shared secret that must never verify tokens')
const octJwk = { kty: 'oct', k: secret.toString('base64url'), kid: 'oct-key', alg: 'HS256', use: 'sig' }
const server = await startAuthServer([rsa.jwk, ed.jwk, es.jwk, weakJwk, octJwk])
t.teardown(() => server.close())

function hs256 (header: Record<string, unknown>, key: string | Buffer): string {
  const h = b64(JSON.stringify(header))
  const p = b64(JSON.stringify(claims(server.issuer)))
  return `${h}.${p}.${createHmac('sha256', key).update(`${h}.${p}`).digest('base64url')}`
}

t.test('CVE-2022-23540 (jsonwebtoken, GHSA-qwph-4952-7xr6): an unsigned alg none token is refused by default', async (t) => {
  const verify = verifierFor(t, server)
  const h = b64(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: rsa.kid }))
  const p = b64(JSON.stringify(claims(server.issuer)))
  await refuses(t, verify, `${h}.${p}.`, 'TOKEN_INVALID', 'alg none')
})

t.test('CVE-2022-23541 (jsonwebtoken): an HS256 token keyed with the RSA public key is refused', async (t) => {
  const verify = verifierFor(t, server)
  const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' })
  await refuses(t, verify, hs256({ alg: 'HS256', typ: 'at+jwt', kid: rsa.kid }, pem), 'TOKEN_INVALID', 'HS256 with the PEM')
})

t.test('CVE-2022-23539 (jsonwebtoken): keys of an unfit type or size are not used for an algorithm', async (t) => {
  const verify = verifierFor(t, server)
  await refuses(t, verify, craft({ alg: 'RS256', typ: 'at+jwt', kid: 'weak-rsa' }, claims(server.issuer), { ...rsa, privateKey: weak.privateKey }), 'TOKEN_INVALID', 'RSA 1024')
  await refuses(t, verify, craft({ alg: 'RS256', typ: 'at+jwt', kid: es.kid }, claims(server.issuer), rsa), 'TOKEN_INVALID', 'an EC key for RS256')
})

t.test('CVE-2022-23529 (jsonwebtoken): an object posing as a token is never coerced or used', async (t) => {
  const verify = verifierFor(t, server)
  let touched = false
  const evil = { toString () { touched = true; return token(server, ed) }, split () { touched = true; return [] } }
  await refuses(t, verify, evil, 'TOKEN_MALFORMED', 'object with toString')
  t.notOk(touched)
})

t.test('CVE-2023-48223 (fast-jwt) and GHSA-mvf2-f6gm-w987: HS256 keyed with a whitespace-prefixed public key, or a published oct key, is refused', async (t) => {
  const verify = verifierFor(t, server)
  const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString()
  for (const prefix of ['', ' ', '\n', '\t \r\n']) {
    await refuses(t, verify, hs256({ alg: 'HS256', typ: 'at+jwt', kid: rsa.kid }, prefix + pem), 'TOKEN_INVALID', `prefix ${JSON.stringify(prefix)}`)
  }
  await refuses(t, verify, hs256({ alg: 'HS256', typ: 'at+jwt', kid: 'oct-key' }, secret), 'TOKEN_INVALID', 'oct key in the JWKS')
  // Even if someone lists RS256 only, an oct JWK under an RS256 kid is not a key.
  const rsOnly = verifierFor(t, server, { algorithms: ['RS256'] })
  await refuses(t, rsOnly, hs256({ alg: 'RS256', typ: 'at+jwt', kid: 'oct-key' }, secret), 'TOKEN_INVALID', 'oct key for RS256')
})

t.test('CVE-2025-30144 (fast-jwt): an iss array that contains the issuer is refused', async (t) => {
  const verify = verifierFor(t, server)
  await refuses(t, verify, token(server, ed, { iss: ['https://evil.example', server.issuer] }), 'TOKEN_INVALID', 'iss array')
  await refuses(t, verify, token(server, ed, { iss: [server.issuer] }), 'TOKEN_INVALID', 'iss array of one')
})

t.test('CVE-2026-35042 (fast-jwt, GHSA-hm7r-c7qw-ghp6): a crit extension that is not understood is refused', async (t) => {
  const verify = verifierFor(t, server)
  await refuses(t, verify, token(server, ed, {}, { crit: ['x-custom-policy'], 'x-custom-policy': 'require-mfa' }), 'TOKEN_INVALID', 'crit')
})

t.test('CVE-2026-35041 (fast-jwt, GHSA-cjw9-ghj4-fwxf) and GHSA-3j8v-cgw4-2g6q: no RegExp claim matching, and verification is deterministic', async (t) => {
  t.throws(() => createVerifier({ issuer: server.issuer, audience: /^(a+)+X$/ as unknown as string }), TypeError)
  t.throws(() => createVerifier({ issuer: server.issuer, audience: [/api/g as unknown as string] }), TypeError)
  const verify = verifierFor(t, server)
  const tok = token(server, ed, { aud: 'a'.repeat(5000) + '!' })
  for (let i = 0; i < 4; i++) await refuses(t, verify, tok, 'TOKEN_INVALID', `long aud, attempt ${i}`)
  const good = token(server, ed)
  for (let i = 0; i < 4; i++) t.equal((await verify(good)).sub, 'user-1', `same token, attempt ${i}`)
})

t.test('CVE-2022-36083 (jose): a JWE with a huge PBES2 p2c is refused at once, without key derivation', async (t) => {
  const verify = verifierFor(t, server)
  const h = b64(JSON.stringify({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', p2c: 2_000_000_000, p2s: b64('salt-salt-salt!!') }))
  // TOKEN_MALFORMED (not TOKEN_INVALID) proves the refusal came from the shape check, before any
  // key lookup or derivation; a timing assertion would only measure this shared machine.
  await refuses(t, verify, `${h}.${b64('k'.repeat(40))}.${b64('iv-iv-iv-iv!')}.${b64('ct')}.${b64('tag-tag-tag-tag!')}`, 'TOKEN_MALFORMED', 'PBES2 JWE')
})

t.test('CVE-2024-28176 (jose): a compressed JWE or a JWS with zip is refused without inflating anything', async (t) => {
  const verify = verifierFor(t, server)
  const h = b64(JSON.stringify({ alg: 'dir', enc: 'A256GCM', zip: 'DEF' }))
  await refuses(t, verify, `${h}..${b64('iv-iv-iv-iv!')}.${b64('x'.repeat(4000))}.${b64('tag-tag-tag-tag!')}`, 'TOKEN_MALFORMED', 'zip JWE')
  await refuses(t, verify, token(server, ed, {}, { zip: 'DEF' }), 'TOKEN_INVALID', 'zip on a JWS')
})

t.test('CVE-2022-21449 (psychic signatures): an all-zero ES256 signature is refused', async (t) => {
  const verify = verifierFor(t, server)
  const [h, p] = token(server, es).split('.')
  await refuses(t, verify, `${h}.${p}.${b64(Buffer.alloc(64))}`, 'TOKEN_INVALID', 'r = s = 0')
})

t.test('the audience option is a set of exact strings, never a pattern', async (t) => {
  const verify = createVerifier({ issuer: server.issuer, audience: `${AUDIENCE}.*` })
  t.teardown(() => verify.close())
  await refuses(t, verify, token(server, ed, { aud: `${AUDIENCE}-admin` }), 'TOKEN_INVALID', 'no wildcard')
})
