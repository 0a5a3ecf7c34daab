// Every refusal: each crafted token ends as a TokenError with the right code,
// never a plain TypeError.
import t from 'tap'
import { createHmac } from 'node:crypto'
import { TokenError } from '../src/index.js'
import { b64, claims, craft, makeKey, refuses, startAuthServer, token, verifierFor } from './helpers.js'

const ed = await makeKey('EdDSA')
const es = await makeKey('ES256')
const rsa = await makeKey('RS256')
const rsaNoAlg = await makeKey('RS256', 'rsa-no-alg', { alg: undefined })
const encKey = await makeKey('EdDSA', 'enc-key', { use: 'enc' })
const opsKey = await makeKey('EdDSA', 'ops-key', { key_ops: ['encrypt'] })
const server = await startAuthServer([ed.jwk, es.jwk, rsa.jwk, rsaNoAlg.jwk, encKey.jwk, opsKey.jwk])
t.teardown(() => server.close())


const header = (extra: Record<string, unknown> = {}, key = ed): Record<string, unknown> => ({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...extra })

t.test('refuses alg none in any letter case, with or without a signature', async (t) => {
  const verify = verifierFor(t, server)
  await verify(token(server, ed)) // keys loaded
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    const h = b64(JSON.stringify(header({ alg })))
    const p = b64(JSON.stringify(claims(server.issuer)))
    await refuses(t, verify, `${h}.${p}.`, 'TOKEN_INVALID', `${alg}, empty signature`)
    await refuses(t, verify, `${h}.${p}.${b64('sig')}`, 'TOKEN_INVALID', `${alg}, some signature`)
  }
})

t.test('refuses an algorithm not listed in algorithms even when the key fits', async (t) => {
  const verify = verifierFor(t, server, { algorithms: ['EdDSA'] })
  await refuses(t, verify, token(server, es), 'TOKEN_INVALID', 'ES256 when only EdDSA is allowed')
  await refuses(t, verify, token(server, rsa), 'TOKEN_INVALID', 'RS256 when only EdDSA is allowed')
})

t.test('refuses HS256 keyed with the public key (algorithm confusion)', async (t) => {
  const verify = verifierFor(t, server)
  for (const key of [rsa, ed, es]) {
    const secrets = [
      key.publicKey.export({ format: 'pem', type: 'spki' }),
      JSON.stringify(key.jwk),
      Buffer.from(String(key.jwk.x ?? key.jwk.n), 'base64url')
    ]
    for (const secret of secrets) {
      const h = b64(JSON.stringify(header({ alg: 'HS256' }, key)))
      const p = b64(JSON.stringify(claims(server.issuer)))
      const sig = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')
      await refuses(t, verify, `${h}.${p}.${sig}`, 'TOKEN_INVALID', `HS256 with the ${key.alg} public key`)
    }
  }
})

t.test('refuses a typ other than at+jwt, and accepts application/at+jwt in any case', async (t) => {
  const verify = verifierFor(t, server)
  for (const typ of [undefined, 'JWT', 'jwt', 'at+jwt2', 'application/jwt', 'dpop+jwt', 1, ['at+jwt']]) {
    await refuses(t, verify, token(server, ed, {}, { typ }), 'TOKEN_INVALID', `typ ${JSON.stringify(typ)}`)
  }
  for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/AT+JWT']) {
    t.ok(await verify(token(server, ed, {}, { typ })), `typ ${typ}`)
  }
})

t.test('refuses tokens with jku, x5u, jwk or x5c and never fetches them', async (t) => {
  const verify = verifierFor(t, server)
  await verify(token(server, ed))
  const attacker = await makeKey('EdDSA', ed.kid)
  const evil = `${server.issuer}/evil`
  const cases: Record<string, unknown> = {
    jku: evil,
    x5u: evil,
    jwk: attacker.jwk,
    x5c: [attacker.publicKey.export({ format: 'der', type: 'spki' }).toString('base64')]
  }
  for (const [name, value] of Object.entries(cases)) {
    await refuses(t, verify, token(server, attacker, {}, { [name]: value }), 'TOKEN_INVALID', `${name} with the attacker's key`)
    await refuses(t, verify, token(server, ed, {}, { [name]: value }), 'TOKEN_INVALID', `${name} even when signed with the real key`)
  }
  t.equal(server.count('/evil'), 0, 'nothing was fetched from the header URLs')
})

t.test('refuses any crit header, b64 false, zip and cty', async (t) => {
  const verify = verifierFor(t, server)
  const cases: Array<Record<string, unknown>> = [
    { crit: ['exp'] },
    { crit: ['x-custom-policy'], 'x-custom-policy': 'require-mfa' },
    { crit: [] },
    { b64: false, crit: ['b64'] },
    { b64: false },
    { zip: 'DEF' },
    { cty: 'JWT' }
  ]
  for (const extra of cases) {
    await refuses(t, verify, token(server, ed, {}, extra), 'TOKEN_INVALID', JSON.stringify(extra))
  }
})

t.test('refuses a wrong iss or aud', async (t) => {
  const verify = verifierFor(t, server)
  const cases: Array<Record<string, unknown>> = [
    { iss: 'https://evil.example' },
    { iss: `${server.issuer}/` },
    { iss: [server.issuer] },
    { iss: undefined },
    { aud: 'other' },
    { aud: ['other'] },
    { aud: [] },
    { aud: undefined },
    { aud: { api: true } }
  ]
  for (const overrides of cases) {
    await refuses(t, verify, token(server, ed, overrides), 'TOKEN_INVALID', JSON.stringify(overrides))
  }
})

t.test('refuses an expired token with TOKEN_EXPIRED, a future nbf or iat with TOKEN_INVALID', async (t) => {
  const verify = verifierFor(t, server)
  const now = Math.floor(Date.now() / 1000)
  await refuses(t, verify, token(server, ed, { exp: now - 6 }), 'TOKEN_EXPIRED', 'exp 6 s ago')
  await refuses(t, verify, token(server, ed, { exp: now - 86400, iat: now - 86500 }), 'TOKEN_EXPIRED', 'exp a day ago')
  await refuses(t, verify, token(server, ed, { nbf: now + 60 }), 'TOKEN_INVALID', 'nbf in a minute')
  await refuses(t, verify, token(server, ed, { iat: now + 3600 }), 'TOKEN_INVALID', 'iat in an hour')
  await refuses(t, verify, token(server, ed, { nbf: 'now' }), 'TOKEN_INVALID', 'nbf not a number')
})

t.test('refuses a token missing exp, iat, sub or jti, or carrying them with the wrong type', async (t) => {
  const verify = verifierFor(t, server)
  const cases: Array<Record<string, unknown>> = [
    { exp: undefined }, { iat: undefined }, { sub: undefined }, { jti: undefined },
    { exp: '9999999999' }, { exp: null }, { iat: '0' }, { sub: 42 }, { sub: '' }, { jti: 7 },
    { scope: ['profile:read'] }, { sid: 1 }, { client_id: {} }
  ]
  for (const overrides of cases) {
    await refuses(t, verify, token(server, ed, overrides), 'TOKEN_INVALID', JSON.stringify(overrides))
  }
})

t.test('refuses a signed payload that is not a JSON object with TOKEN_MALFORMED', async (t) => {
  const verify = verifierFor(t, server)
  for (const payload of [[claims(server.issuer)], 'user-1', 42, null, true]) {
    await refuses(t, verify, craft(header(), payload, ed), 'TOKEN_MALFORMED', `payload ${JSON.stringify(payload)?.slice(0, 20)}`)
  }
  await refuses(t, verify, craft(header(), b64('{"sub":'), ed), 'TOKEN_MALFORMED', 'payload of broken JSON')
  await refuses(t, verify, craft(header(), b64('\u00ff\u00fe'), ed), 'TOKEN_MALFORMED', 'payload not JSON')
})

t.test('refuses malformed compact forms with TOKEN_MALFORMED', async (t) => {
  const verify = verifierFor(t, server)
  const good = token(server, ed)
  const [h, p, s] = good.split('.') as [string, string, string]
  const cases: Record<string, string> = {
    'one segment': 'abc',
    'two segments': `${h}.${p}`,
    'four segments': `${h}.${p}.${s}.${s}`,
    'five segments (JWE)': `${b64('{"alg":"dir","enc":"A256GCM"}')}.${''}.${b64('iv')}.${b64('ct')}.${b64('tag')}`,
    'empty header': `.${p}.${s}`,
    'empty payload': `${h}..${s}`,
    'header with a character outside base64url': `${h}!.${p}.${s}`,
    'payload with standard base64 characters': `${h}.${p}+/.${s}`,
    'signature with padding': `${h}.${p}.${s}==`,
    'header with a space': `${h} .${p}.${s}`,
    'header not JSON': `${b64('not json')}.${p}.${s}`,
    'header a JSON array': `${b64('["EdDSA"]')}.${p}.${s}`,
    'header JSON null': `${b64('null')}.${p}.${s}`,
    'only dots': '..'
  }
  for (const [name, tok] of Object.entries(cases)) await refuses(t, verify, tok, 'TOKEN_MALFORMED', name)
})

t.test('refuses a key that does not fit the header algorithm', async (t) => {
  const verify = verifierFor(t, server)
  // An EdDSA signature under the kid of the RSA key.
  await refuses(t, verify, craft(header({ kid: rsa.kid }), claims(server.issuer), ed), 'TOKEN_INVALID', 'EdDSA header, RSA kid')
  // ES256 header under an EdDSA kid, signed with the ES256 key.
  await refuses(t, verify, craft(header({ alg: 'ES256', kid: ed.kid }), claims(server.issuer), es), 'TOKEN_INVALID', 'ES256 header, Ed25519 kid')
  // The JWK says alg RS256; a PS256 signature by the same key is refused.
  const pss = verifierFor(t, server, { algorithms: ['RS256', 'PS256'] })
  await refuses(t, pss, craft(header({ alg: 'PS256', kid: rsa.kid }), claims(server.issuer), rsa, 'PS256'), 'TOKEN_INVALID', 'JWK alg RS256, header PS256')
  // Without alg in the JWK the same key may sign PS256 when allowed.
  t.ok(await pss(craft(header({ alg: 'PS256', kid: rsaNoAlg.kid }), claims(server.issuer), rsaNoAlg, 'PS256')), 'JWK without alg')
  // Keys published for encryption only are never used.
  await refuses(t, verify, token(server, encKey), 'TOKEN_INVALID', 'JWK use enc')
  await refuses(t, verify, token(server, opsKey), 'TOKEN_INVALID', 'JWK key_ops without verify')
})

t.test('refuses a signature by another key under a known kid, and a tampered payload', async (t) => {
  const verify = verifierFor(t, server)
  const forger = await makeKey('EdDSA', ed.kid)
  await refuses(t, verify, token(server, forger), 'TOKEN_INVALID', 'forged with the same kid')
  const [h, , s] = token(server, ed).split('.')
  const p = b64(JSON.stringify(claims(server.issuer, { sub: 'admin' })))
  await refuses(t, verify, `${h}.${p}.${s}`, 'TOKEN_INVALID', 'payload swapped')
  await refuses(t, verify, token(server, ed).slice(0, -4) + 'AAAA', 'TOKEN_INVALID', 'signature changed')
  await refuses(t, verify, token(server, es).slice(0, -10), 'TOKEN_INVALID', 'ES256 signature truncated')
})

t.test('refuses a token longer than maxTokenBytes before parsing it', async (t) => {
  const verify = verifierFor(t, server)
  const big = token(server, ed, { pad: 'x'.repeat(9000) })
  await refuses(t, verify, big, 'TOKEN_MALFORMED', 'a 9 kB token')
  const err = await verify('!'.repeat(8193)).then(() => undefined, (e: unknown) => e as TokenError)
  t.match(err?.message, /longer than 8192/, 'refused for its size, not its content')
  const roomy = verifierFor(t, server, { maxTokenBytes: 16384 })
  t.ok(await roomy(big))
})

t.test('refuses input that is not a string without coercing it', async (t) => {
  const verify = verifierFor(t, server)
  let called = false
  const sneaky = { toString: () => { called = true; return token(server, ed) } }
  for (const input of [42, sneaky, [token(server, ed)], Buffer.from(token(server, ed)), true, {}]) {
    await refuses(t, verify, input, 'TOKEN_MALFORMED', `input ${typeof input}`)
  }
  t.notOk(called, 'toString was never called')
  for (const input of [undefined, null, '']) await refuses(t, verify, input, 'TOKEN_MISSING', `input ${String(input)}`)
})

t.test('refuses a token without kid or with an unknown kid', async (t) => {
  const verify = verifierFor(t, server)
  await refuses(t, verify, token(server, ed, {}, { kid: undefined }), 'TOKEN_INVALID', 'no kid')
  await refuses(t, verify, token(server, ed, {}, { kid: 42 }), 'TOKEN_INVALID', 'numeric kid')
  await refuses(t, verify, token(server, ed, {}, { kid: 'nope' }), 'TOKEN_INVALID', 'unknown kid')
})
