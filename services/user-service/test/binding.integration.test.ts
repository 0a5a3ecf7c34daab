import t from 'tap'
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startPair } from './with-auth-center.js'

const J = { 'content-type': 'application/json' }
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')

/** A device key and RFC 9449 proofs made with node:crypto only. */
function device () {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' })
  const jwk = { kty, crv, x, y }
  return (htm: string, htu: string, accessToken?: string): string => {
    const claims: Record<string, unknown> = { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) }
    if (accessToken !== undefined) claims.ath = createHash('sha256').update(accessToken).digest('base64url')
    const input = `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk })}.${b64(claims)}`
    return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
  }
}

t.test('device-bound tokens at the user service', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bind-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const clients = join(dir, 'clients.json')
  await writeFile(clients, JSON.stringify({ clients: [{ client_id: 'app', policy: { binding: 'dpop' } }, { client_id: 'web', policy: { binding: 'cookie' } }] }))
  const { issuer, usersUrl } = await startPair(t, { authEnv: { AUTH_CLIENTS_FILE: clients } })

  t.test('a DPoP-bound token works with its key and is refused when copied without it', async (t) => {
    const proof = device()
    const login = await (await fetch(`${issuer}/auth/login`, {
      method: 'POST', headers: { ...J, dpop: proof('POST', `${issuer}/auth/login`) }, body: JSON.stringify({ mobile: '13800000000', code: '123456', client_id: 'app' })
    })).json() as { access_token: string, token_type: string }
    t.equal(login.token_type, 'DPoP')
    const url = `${usersUrl}/user/mine`
    const ok = await fetch(url, { headers: { authorization: `DPoP ${login.access_token}`, dpop: proof('GET', url, login.access_token) } })
    t.equal(ok.status, 200)
    const copied = await fetch(url, { headers: { authorization: `Bearer ${login.access_token}` } })
    t.equal(copied.status, 401)
    t.equal((await copied.json() as { code: string }).code, 'INVALID_DPOP_PROOF')
    const thief = device()
    const stolen = await fetch(url, { headers: { authorization: `DPoP ${login.access_token}`, dpop: thief('GET', url, login.access_token) } })
    t.equal(stolen.status, 401, 'a proof by another key')
  })

  t.test('a cookie-bound token without its cookie is refused', async (t) => {
    const res = await fetch(`${issuer}/auth/login`, { method: 'POST', headers: J, body: JSON.stringify({ mobile: '13800000000', code: '123456', client_id: 'web' }) })
    const login = await res.json() as { access_token: string }
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!
    const url = `${usersUrl}/user/mine`
    t.equal((await fetch(url, { headers: { authorization: `Bearer ${login.access_token}`, cookie } })).status, 200)
    const bare = await fetch(url, { headers: { authorization: `Bearer ${login.access_token}` } })
    t.equal(bare.status, 401)
    t.equal((await bare.json() as { code: string }).code, 'TOKEN_BINDING_MISMATCH')
  })
})
