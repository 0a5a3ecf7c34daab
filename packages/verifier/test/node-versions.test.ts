// What differs between the Node lines we support (20, 22, 24: see `engines`), checked on
// whichever one runs this file. `.ci/run` runs it on each, with AUTHCENTER_TEST_NODE set
// to the major it put first on PATH.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createPublicKey, randomUUID, verify as cryptoVerify } from 'node:crypto'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { checkDpopProof, createMemoryReplayCache, DpopError } from '../src/dpop.js'
import { algorithmSpecs } from '../src/algorithms.js'
import { b64, claims, makeKey, refuses, startAuthServer, token, verifierFor } from './helpers.js'

const major = Number(process.versions.node.split('.')[0])

t.test('runs on the Node line the run asked for, one that engines names', async (t) => {
  t.comment(`runtime: node ${process.version}, openssl ${process.versions.openssl}, undici ${process.versions.undici ?? '?'}`)
  const engines = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }).engines.node
  // engines reads "^20.19.0 || ^22.12.0 || >=24": one range per supported line.
  const lines = [...engines.matchAll(/(?:\^|>=)(\d+)\./g)].map((m) => Number(m[1]))
  t.ok(lines.includes(major), `Node ${major} is one of the lines engines names (${engines})`)
  const asked = process.env.AUTHCENTER_TEST_NODE
  if (asked !== undefined) t.equal(String(major), asked, 'the node that runs the tests is the one .ci/run put first on PATH')
})

// The encodings of the eight Ed25519 points of small order (1, 2, 4, 8), canonical or not,
// with the sign bit cleared: libsodium's list (ge25519_has_small_order).
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'
].map((hex) => Buffer.from(hex, 'hex'))
const IDENTITY = SMALL_ORDER[1]!
/** R = the identity, S = 0: with A of small order, [S]B = R + [k]A holds for every message. */
const FORGED = Buffer.concat([IDENTITY, Buffer.alloc(32)])

t.test('small-order Ed25519 keys never verify anything, although Node 20 and 22 accept a forgery by one', async (t) => {
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: IDENTITY.toString('base64url') }
  const accepts = cryptoVerify(null, Buffer.from('any message'), createPublicKey({ key: jwk, format: 'jwk' }), FORGED)
  // Measured: true on Node 20.20 (OpenSSL 3.0) and 22.23 (OpenSSL 3.5), false on Node 24.22.
  t.comment(`node:crypto on ${process.version} ${accepts ? 'accepts' : 'refuses'} a forged signature by the identity point`)
  for (const x of SMALL_ORDER) {
    for (const signBit of [0, 0x80]) {
      const bytes = Buffer.from(x)
      bytes[31] = bytes[31]! | signBit
      let key
      try {
        key = createPublicKey({ key: { ...jwk, x: bytes.toString('base64url') }, format: 'jwk' })
      } catch {
        continue // some runtimes refuse the encoding at import already
      }
      t.equal(algorithmSpecs.get('EdDSA')!.fits(key), false, `${bytes.toString('hex').slice(0, 8)}… does not fit EdDSA`)
      t.equal(algorithmSpecs.get('Ed25519')!.fits(key), false, `${bytes.toString('hex').slice(0, 8)}… does not fit Ed25519`)
    }
  }
  const good = await makeKey('EdDSA')
  t.equal(algorithmSpecs.get('EdDSA')!.fits(good.publicKey), true, 'an ordinary Ed25519 key fits')
})

t.test('a token "signed" by a small-order key of the JWKS is refused', async (t) => {
  const good = await makeKey('EdDSA', 'good')
  const weak = { kty: 'OKP', crv: 'Ed25519', x: IDENTITY.toString('base64url'), kid: 'weak', alg: 'EdDSA', use: 'sig' }
  const server = await startAuthServer([good.jwk, weak])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server)
  const input = `${b64(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: 'weak' }))}.${b64(JSON.stringify(claims(server.issuer)))}`
  await refuses(t, verify, `${input}.${FORGED.toString('base64url')}`, 'TOKEN_INVALID', 'forged with the identity key')
  const ok = await verify(token(server, good)).then(() => true, () => false)
  t.equal(ok, true, 'the ordinary key of the same JWKS still verifies')
})

t.test('a DPoP proof by a small-order key is refused (anyone could sign it)', async (t) => {
  const url = 'https://api.example.com/me'
  const header = { alg: 'EdDSA', typ: 'dpop+jwt', jwk: { kty: 'OKP', crv: 'Ed25519', x: IDENTITY.toString('base64url') } }
  const payload = { jti: randomUUID(), htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000) }
  const proof = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}.${FORGED.toString('base64url')}`
  const err = await checkDpopProof({ proof, method: 'GET', url, replay: createMemoryReplayCache() }).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof DpopError, 'refused with a DpopError')
  t.equal((err as DpopError | undefined)?.code, 'INVALID_DPOP_PROOF')
  t.equal((err as Error | undefined)?.message, 'the proof key does not fit its alg')
})

// The permission model is experimental behind --experimental-permission on Node 20 and
// stable as --permission from Node 22.13 / 23.5. A service that runs under it grants the
// verifier what it needs: reading its own modules, the network (not restricted before Node 25).
t.test('runs under the permission model with read access to its own files only (no write, no child process, no worker)', async (t) => {
  // tsx's loader needs a worker and its cache, which the model refuses: the child runs plain
  // JavaScript, transpiled from src/ here (type-only imports dropped), so it is this source.
  const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src')
  const dir = mkdtempSync(join(tmpdir(), 'verifier-permission-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : [])
  for (const file of walk(src)) {
    const out = join(dir, relative(src, file)).replace(/\.ts$/, '.js')
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true }
    }).outputText)
  }
  writeFileSync(join(dir, 'child.mjs'), `
    import { createVerifier, ed25519Backend } from './index.js'
    const [issuer, good, forged] = process.argv.slice(2)
    const verify = createVerifier({ issuer, audience: 'api', logger: { warn () {}, info () {} } })
    const outcome = (p) => p.then((a) => 'accepted ' + a.sub, (e) => 'refused ' + e.code)
    const result = { good: await outcome(verify(good)), forged: await outcome(verify(forged)), backend: ed25519Backend(),
      write: process.permission.has('fs.write'), child: process.permission.has('child'), worker: process.permission.has('worker') }
    await verify.close()
    process.stdout.write(JSON.stringify(result))
  `)

  const key = await makeKey('EdDSA', 'k1')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const good = token(server, key)
  const forged = `${good.slice(0, good.lastIndexOf('.'))}.${Buffer.alloc(64).toString('base64url')}`
  const flag = major >= 22 ? '--permission' : '--experimental-permission'
  // tap's process tracking adds its hooks to NODE_OPTIONS of every child (they read outside
  // `dir`); the shell drops it, so the child is a bare node with the permission flags only.
  const args = [process.execPath, flag, `--allow-fs-read=${dir}`, join(dir, 'child.mjs'), server.issuer, good, forged]
  const { stdout, stderr } = await new Promise<{ stdout: string, stderr: string }>((resolve, reject) => {
    execFile('/bin/sh', ['-c', 'unset NODE_OPTIONS; exec "$@"', 'sh', ...args], { env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 },
      (err, stdout, stderr) => { if (err !== null) reject(Object.assign(err, { stderr })); else resolve({ stdout, stderr }) })
  })
  // No sodium-native can be found from the copy (nor loaded under the model): the optional dependency absent, node:crypto verifies.
  t.same(JSON.parse(stdout), { good: 'accepted user-1', forged: 'refused TOKEN_INVALID', backend: 'node', write: false, child: false, worker: false }, `${flag}: verifies and refuses as usual, on node:crypto`)
  t.notMatch(stderr, /ERR_ACCESS_DENIED/, 'nothing was denied')
})
