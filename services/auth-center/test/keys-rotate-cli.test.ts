import t from 'tap'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createVerifier } from '@authcenter/verifier'
import { sleep, startAuthCenter, TEST_MOBILE, TEST_OTP } from './helpers/auth-center.js'

const kidOf = (jwt: string): string => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid

t.test('keys:rotate switches a running auth center to a new key without a restart', async (t) => {
  const ac = await startAuthCenter()
  t.teardown(() => ac.close())
  const before = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body

  const cli = fileURLToPath(new URL('../src/keys/rotate-cli.ts', import.meta.url))
  const r = spawnSync(process.execPath, ['--import=tsx', cli], { env: { ...process.env, AUTH_DATA_DIR: ac.dataDir }, encoding: 'utf8', timeout: 30_000 })
  t.equal(r.status, 0, r.stderr)
  const m = /rotated signing key: (\S+) -> (\S+)/.exec(r.stdout)
  t.ok(m, 'says which key replaced which')
  t.equal(m?.[1], kidOf(before.access_token))

  // The running service reloads its keys every 5 s.
  let kids: string[] = []
  for (let i = 0; i < 40 && !kids.includes(m![2]!); i++) {
    await sleep(250)
    kids = (await ac.call('GET', '/.well-known/jwks.json')).body.keys.filter((k: { alg: string }) => k.alg === 'EdDSA').map((k: { kid: string }) => k.kid)
  }
  t.same(kids.sort(), [m![1], m![2]].sort(), 'old and new access-token key published (the RS256 ID-token keys rotate beside them)')
  const after = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  t.equal(kidOf(after.access_token), m![2], 'new tokens use the new key')

  const verify = createVerifier({ issuer: 'http://auth.test', audience: 'authcenter', jwksUri: `${ac.url}/.well-known/jwks.json`, cooldownDuration: 0 })
  t.teardown(() => verify.close())
  t.ok(await verify(before.access_token), 'a token signed before the rotation still verifies')
  t.ok(await verify(after.access_token))
})
