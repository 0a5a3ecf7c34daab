// The two Ed25519 backends must accept and refuse exactly the same signatures. A corpus of
// RFC 8032 vectors and edge cases (S ≥ L, non-canonical, small-order and mixed-order keys,
// small-order and non-canonical R, wrong lengths) and a few thousand seeded random valid and
// one-bit-tampered signatures goes through the raw libraries (crypto.verify, libsodium's
// crypto_sign_verify_detached) and through both backends. Where the raw libraries disagree
// (the exact list is asserted), the backends refuse, on both paths, and so does the verifier.
import t from 'tap'
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { createRequire } from 'node:module'
import { createVerifier, ed25519Backend } from '../src/index.js'
import type { Verifier } from '../src/index.js'
import { ed25519, sodiumAvailable } from '../src/ed25519.js'
import { b64, quietLogger, refuses, startAuthServer } from './helpers.js'

type Sodium = typeof import('sodium-native')

const major = Number(process.versions.node.split('.')[0])
const L = 2n ** 252n + 27742317777372353535851937790883648493n
const ISSUER = 'https://issuer.test'

const hex = (s: string): Buffer => Buffer.from(s, 'hex')
const le = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).reverse().toString('hex') || '0'}`)
const toLe = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse()
/** Deterministic bytes: SHA-512 of a label (the corpus is the same on every run). */
const seeded = (label: string, length = 32): Buffer => createHash('sha512').update(label).digest().subarray(0, length)

interface Case {
  name: string
  key: Buffer
  message: Buffer
  signature: Buffer
  /** The token this case is, when its message is a JWS signing input whose kid names `key` in the test JWKS. */
  token?: string
}

// RFC 8032 §7.1: TEST 1, 2, 3 and SHA(abc) (secret key, public key, message, signature).
const RFC8032 = [
  ['9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', '',
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'],
  ['4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', '72',
    '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'],
  ['c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', 'af82',
    '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'],
  ['833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42', 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704']
] as const

// The eight points of small order, canonically encoded: identity, order 2, two of order 4, four of order 8.
const SMALL_ORDER: Record<string, Buffer> = {
  identity: hex('0100000000000000000000000000000000000000000000000000000000000000'),
  order2: hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
  order4a: hex('0000000000000000000000000000000000000000000000000000000000000000'),
  order4b: hex('0000000000000000000000000000000000000000000000000000000000000080'),
  order8a: hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'),
  order8b: hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85'),
  order8c: hex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'),
  order8d: hex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa')
}
// Other encodings of small-order points: y ≥ p (y = p is 0, y = p + 1 is 1), and x = 0 with the sign bit set.
const SMALL_ORDER_OTHER: Record<string, Buffer> = {
  'y=p': hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
  'y=p,sign': hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'),
  'y=p+1': hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
  'y=p+1,sign': hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'),
  'identity,sign': hex('0100000000000000000000000000000000000000000000000000000000000080'),
  'order2,sign': hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff')
}
const ALL_SMALL_ORDER = { ...SMALL_ORDER, ...SMALL_ORDER_OTHER }

/** An Ed25519 private key from its 32-byte seed. */
function privateKeyOf (seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([hex('302e020100300506032b657004220420'), seed]), format: 'der', type: 'pkcs8' })
}
const publicBytes = (key: KeyObject): Buffer => Buffer.from(String(createPublicKey(key).export({ format: 'jwk' }).x), 'base64url')
/** The secret scalar a of a seed (RFC 8032 §5.1.5: the clamped low half of SHA-512(seed)). */
function scalarOf (seed: Buffer): bigint {
  const h = createHash('sha512').update(seed).digest().subarray(0, 32)
  h[0]! &= 248
  h[31]! &= 127
  h[31]! |= 64
  return le(h)
}
const challenge = (r: Buffer, a: Buffer, m: Buffer): bigint => le(createHash('sha512').update(r).update(a).update(m).digest()) % L

/** A signature with a chosen R by the holder of a: S = k·a, so that [S]B − [k]A is R whenever A = [a]B + T and R = −[k]T. */
function withR (r: Buffer, a: bigint, key: Buffer, message: Buffer): Buffer {
  return Buffer.concat([r, toLe((challenge(r, key, message) * a) % L)])
}

/** A JWS signing input for the key `kid` with fixed claims (fixed, so that every run builds the same corpus). */
function signingInput (kid: string, n: number): Buffer {
  const header = b64(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid }))
  const payload = b64(JSON.stringify({ iss: ISSUER, aud: 'api', sub: `user-${n}`, jti: `corpus-${kid}-${n}`, iat: 1_700_000_000, exp: 4_102_444_800 }))
  return Buffer.from(`${header}.${payload}`)
}
const tokenOf = (message: Buffer, signature: Buffer): string => `${message.toString('latin1')}.${signature.toString('base64url')}`

function rawNode (c: Case): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: c.key.toString('base64url') }, format: 'jwk' })
    return cryptoVerify(null, c.message, key, c.signature)
  } catch {
    return false
  }
}

function rawSodium (lib: Sodium, c: Case): boolean {
  try {
    return lib.crypto_sign_verify_detached(c.signature, c.message, c.key)
  } catch {
    return false // wrong lengths: sodium-native throws
  }
}

function backend (name: 'node' | 'sodium', c: Case): boolean {
  const b = ed25519(name)
  const key = b.importPublicKey(c.key)
  return key !== undefined && b.verify(key, c.message, c.signature)
}

function buildCorpus (lib: Sodium): { cases: Case[], jwks: Array<Record<string, string>> } {
  const cases: Case[] = []
  const jwks: Array<Record<string, string>> = []
  const jwkFor = (kid: string, key: Buffer): void => { jwks.push({ kty: 'OKP', crv: 'Ed25519', x: key.toString('base64url'), kid, alg: 'EdDSA', use: 'sig' }) }
  const add = (name: string, key: Buffer, message: Buffer, signature: Buffer, jws = false): void => {
    cases.push({ name, key, message, signature, ...(jws ? { token: tokenOf(message, signature) } : {}) })
  }

  // RFC 8032 vectors; each signature again with S + L (the same equation, a second encoding).
  RFC8032.forEach(([, pk, m, sig], i) => {
    const s = hex(sig)
    add(`rfc8032 #${i + 1}`, hex(pk), hex(m), s)
    add(`rfc8032 #${i + 1}, S + L`, hex(pk), hex(m), Buffer.concat([s.subarray(0, 32), toLe(le(s.subarray(32)) + L)]))
  })

  // An ordinary key: valid, S + L, R of small order (S = k·a: the equation holds for the identity).
  const seed = seeded('honest key')
  const honest = privateKeyOf(seed)
  const honestKey = publicBytes(honest)
  const a = scalarOf(seed)
  jwkFor('honest', honestKey)
  for (let n = 0; n < 2; n++) {
    const m = signingInput('honest', n)
    const sig = cryptoSign(null, m, honest)
    add(`honest key, valid #${n}`, honestKey, m, sig, true)
    add(`honest key, S + L #${n}`, honestKey, m, Buffer.concat([sig.subarray(0, 32), toLe(le(sig.subarray(32)) + L)]), true)
    for (const [r, enc] of Object.entries(ALL_SMALL_ORDER)) add(`honest key, R ${r} #${n}`, honestKey, m, withR(enc, a, honestKey, m), true)
  }

  // Keys of small order, every encoding, with the forgery R = a small-order point, S = 0.
  for (const [k, key] of Object.entries(ALL_SMALL_ORDER)) {
    jwkFor(`small ${k}`, key)
    const m = signingInput(`small ${k}`, 0)
    for (const [r, enc] of Object.entries(ALL_SMALL_ORDER)) add(`key ${k}, R ${r}, S = 0`, key, m, Buffer.concat([enc, Buffer.alloc(32)]), true)
  }

  // Non-canonical keys y = p + i (i ≥ 2; 0 and 1 are above), both signs: the forgery and an honest-looking signature.
  for (let i = 2; i <= 18; i++) {
    for (const sign of [0, 0x80]) {
      const key = hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')
      key[0] = 0xed + i
      key[31] = 0x7f | sign
      const m = Buffer.from(`non-canonical key ${i} ${sign}`)
      add(`key y = p + ${i}${sign !== 0 ? ', sign' : ''}, forgery`, key, m, Buffer.concat([SMALL_ORDER.identity!, Buffer.alloc(32)]))
      add(`key y = p + ${i}${sign !== 0 ? ', sign' : ''}, signature by the honest key`, key, m, cryptoSign(null, m, honest))
    }
  }

  // A mixed-order key A = [a]B + T (T of order 8): canonical and not of small order, so both
  // libraries take it; S = k·a verifies exactly when R = −[k]T, and an honest signature only when 8 | k.
  const mixedKey = Buffer.alloc(32)
  lib.crypto_core_ed25519_add(mixedKey, honestKey, SMALL_ORDER.order8a!)
  jwkFor('mixed', mixedKey)
  for (let n = 0; n < 4; n++) {
    const m = signingInput('mixed', n)
    for (const [r, enc] of Object.entries(SMALL_ORDER)) add(`mixed-order key, R ${r} #${n}`, mixedKey, m, withR(enc, a, mixedKey, m), true)
  }
  const mixedSecret = Buffer.concat([seed, mixedKey]) // libsodium signs with the key it is given: k over the mixed A
  for (let n = 4; n < 12; n++) {
    const m = signingInput('mixed', n)
    const sig = Buffer.alloc(64)
    lib.crypto_sign_detached(sig, m, mixedSecret)
    add(`mixed-order key, signed #${n}`, mixedKey, m, sig, true)
  }

  // Wrong lengths.
  const m = signingInput('honest', 9)
  const sig = cryptoSign(null, m, honest)
  add('signature of 63 bytes', honestKey, m, sig.subarray(0, 63), true)
  add('signature of 65 bytes', honestKey, m, Buffer.concat([sig, Buffer.alloc(1)]), true)
  add('key of 31 bytes', honestKey.subarray(0, 31), m, sig)
  add('key of 33 bytes', Buffer.concat([honestKey, Buffer.alloc(1)]), m, sig)

  // Seeded random keys and messages: each signature valid, and with one bit flipped.
  for (let k = 0; k < 100; k++) {
    const privateKey = privateKeyOf(seeded(`random key ${k}`))
    const key = publicBytes(privateKey)
    for (let j = 0; j < 25; j++) {
      const label = `random ${k}/${j}`
      const message = seeded(label, 1 + (seeded(`${label} length`)[0]! % 64))
      const signature = cryptoSign(null, message, privateKey)
      add(`${label} valid`, key, message, signature)
      const bit = seeded(`${label} bit`).readUInt16LE(0) % 512
      const tampered = Buffer.from(signature)
      tampered[bit >> 3]! ^= 1 << (bit & 7)
      add(`${label} bit ${bit} flipped`, key, message, tampered)
    }
  }
  return { cases, jwks }
}

// Where the raw libraries disagree, as measured on Node 20.20 (OpenSSL 3.0.19), 22.23 and 24.22
// (both OpenSSL 3.5.9: the small-order refusals of Node 24 are not OpenSSL's). node:crypto on Node 20 and 22
// accepts an R of small order whenever the (cofactorless) equation holds: with an ordinary key
// and R the identity (S = k·a), with a mixed-order key and R = −[k]T, and the forgeries S = 0
// by a key of small order in any encoding (y ≥ p, x = 0 with the sign bit) with a matching R;
// libsodium refuses every small-order R and key outright, and so does node:crypto on Node 24.
// And sodium-native checks only that a signature is at least 64 bytes and reads the first 64:
// 64 valid bytes and one more verify there (the backends refuse every length but 64).
const OPENSSL_SMALL_ORDER = [
  'honest key, R identity #0',
  'honest key, R identity #1',
  'key identity, R identity, S = 0',
  'key order2, R identity, S = 0',
  'key order2, R order2, S = 0',
  'key order4a, R order2, S = 0',
  'key order4a, R order4a, S = 0',
  'key order4b, R order4b, S = 0',
  'key order8a, R order8c, S = 0',
  'key order8d, R identity, S = 0',
  'key order8d, R order4a, S = 0',
  'key order8d, R order8b, S = 0',
  'key order8d, R order8d, S = 0',
  'key y=p, R order4b, S = 0',
  'key y=p,sign, R order4a, S = 0',
  'key y=p+1, R identity, S = 0',
  'key y=p+1,sign, R identity, S = 0',
  'key identity,sign, R identity, S = 0',
  'mixed-order key, R order2 #0',
  'mixed-order key, R order8b #0',
  'mixed-order key, R order8d #0',
  'mixed-order key, R order8b #1',
  'mixed-order key, R identity #2'
].map((name) => `${name}: node:crypto accepts`)
const DISAGREEING = [...(major < 24 ? OPENSSL_SMALL_ORDER : []), 'signature of 65 bytes: libsodium accepts']

const lib: Sodium | undefined = sodiumAvailable() ? createRequire(import.meta.url)('sodium-native') as Sodium : undefined

t.test('the corpus: both backends answer alike, and as the stricter raw library', { skip: lib === undefined ? 'sodium-native cannot be loaded here' : false }, async (t) => {
  const { cases } = buildCorpus(lib!)
  const disagree: string[] = []
  let accepted = 0
  let mismatches = 0
  for (const c of cases) {
    const node = rawNode(c)
    const sodium = rawSodium(lib!, c)
    if (node !== sodium) disagree.push(`${c.name}: ${node ? 'node:crypto' : 'libsodium'} accepts`)
    const viaNode = backend('node', c)
    const viaSodium = backend('sodium', c)
    if (viaNode) accepted++
    // One assertion per mismatch only: the corpus has thousands of cases.
    if (viaNode !== viaSodium || viaNode !== (node && sodium)) {
      mismatches++
      t.fail(`${c.name}: backend node ${viaNode}, sodium ${viaSodium}, raw node:crypto ${node}, libsodium ${sodium}`)
    }
  }
  t.equal(mismatches, 0, `${cases.length} cases: both backends give the same answer, the stricter of the two libraries`)
  t.equal(cases.length, 5348, 'cases in the corpus')

  // Accepted by both: the 4 RFC vectors, 2 honest signatures, 2500 random valid ones, and the
  // signatures by the mixed-order key whose k happens to be a multiple of 8 (2 of these 8).
  t.equal(accepted, 4 + 2 + 2500 + 2, 'signatures every backend accepts')

  t.comment(`node ${process.version}, openssl ${process.versions.openssl}, libsodium through sodium-native`)
  t.same(disagree, DISAGREEING, `the raw libraries disagree on exactly ${DISAGREEING.length} cases`)
})

t.test('the verifier refuses every case the raw libraries disagree on, on both backends', { skip: lib === undefined ? 'sodium-native cannot be loaded here' : false }, async (t) => {
  const { cases, jwks } = buildCorpus(lib!)
  const server = await startAuthServer(jwks)
  t.teardown(() => server.close())
  const names = new Set(DISAGREEING.map((d) => d.slice(0, d.lastIndexOf(': '))))
  const disputed = cases.filter((c) => names.has(c.name))
  t.equal(disputed.length, DISAGREEING.length, 'every disagreeing case is in the corpus')
  t.ok(disputed.every((c) => c.token !== undefined), 'and each is a token signed for a key of the JWKS')
  const valid = cases.filter((c) => c.name.startsWith('honest key, valid'))
  for (const name of ['node', 'sodium'] as const) {
    const saved = process.env.AUTHCENTER_ED25519
    process.env.AUTHCENTER_ED25519 = name
    let verify: Verifier
    try {
      t.equal(ed25519Backend(), name, `AUTHCENTER_ED25519=${name}`)
      verify = createVerifier({ issuer: ISSUER, audience: 'api', jwksUri: server.jwksUri, logger: quietLogger, algorithms: ['EdDSA'] })
    } finally {
      if (saved === undefined) delete process.env.AUTHCENTER_ED25519
      else process.env.AUTHCENTER_ED25519 = saved
    }
    t.teardown(() => verify.close())
    for (const c of valid) t.equal((await verify(c.token)).sub, JSON.parse(Buffer.from(c.token!.split('.')[1]!, 'base64url').toString()).sub, `${name}: ${c.name} verifies`)
    for (const c of disputed) await refuses(t, verify, c.token, 'TOKEN_INVALID', `${name}: ${c.name}`)
  }
})

t.test('both backends sign the RFC 8032 vectors byte for byte (the auth center signs through them)', { skip: lib === undefined ? 'sodium-native cannot be loaded here' : false }, async (t) => {
  for (const name of ['node', 'sodium'] as const) {
    const b = ed25519(name)
    RFC8032.forEach(([sk, pk, m, sig], i) => {
      const key = b.importPrivateKey(privateKeyOf(hex(sk)))
      t.equal(b.sign(key, hex(m)).toString('hex'), sig, `${name}: rfc8032 #${i + 1}`)
      t.equal(b.verify(b.importPublicKey(hex(pk))!, hex(m), hex(sig)), true, `${name}: verifies its own`)
    })
    t.throws(() => b.importPrivateKey(createPublicKey(privateKeyOf(hex(RFC8032[0][0])))), TypeError, `${name}: a public key is not a private key`)
  }
  t.equal(ed25519('sodium').sign(ed25519('node').importPrivateKey(privateKeyOf(hex(RFC8032[0][0]))), Buffer.alloc(0)).toString('hex'), RFC8032[0][3], 'a key imported by the node backend signs alike through the sodium one')
})

t.test('key import refuses every non-canonical and every small-order encoding, on both backends, and takes ordinary and mixed-order keys', async (t) => {
  const refused: Buffer[] = Object.values(ALL_SMALL_ORDER)
  for (let i = 0; i <= 18; i++) {
    for (const sign of [0, 0x80]) {
      const key = hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')
      key[0] = 0xed + i
      key[31] = 0x7f | sign
      refused.push(key)
    }
  }
  const names = lib === undefined ? ['node'] as const : ['node', 'sodium'] as const
  for (const name of names) {
    const b = ed25519(name)
    t.equal(refused.filter((key) => b.importPublicKey(key) !== undefined).length, 0, `${name}: none of the ${refused.length} encodings imports`)
    t.equal(b.importPublicKey(hex(RFC8032[0][1])) !== undefined, true, `${name}: an ordinary key imports`)
    if (lib !== undefined) {
      const mixed = Buffer.alloc(32)
      lib.crypto_core_ed25519_add(mixed, hex(RFC8032[0][1]), SMALL_ORDER.order8a!)
      t.equal(b.importPublicKey(mixed) !== undefined, true, `${name}: a mixed-order key imports (both libraries take it)`)
    }
  }
})
