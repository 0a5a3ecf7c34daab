import t from 'tap'
import { readdir } from 'node:fs/promises'
import { connect } from 'node:net'
import { startPair } from './with-auth-center.js'

// A 1x1 PNG.
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4c80000000049454e44ae426082', 'hex')

/**
 * The diagram of the seed: the client logs in at the auth center, then calls the user
 * service with its access token, which the service checks on its own (JWKS found
 * through the issuer's metadata, no call to the auth center per request).
 */
t.test('log in at the auth center, then use the user service with the access token', async (t) => {
  const { issuer, auth, usersUrl, avatarDir } = await startPair(t, { usersEnv: { AVATAR_MAX_BYTES: '64KiB' } })

  const login = await (await fetch(`${issuer}/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mobile: '13800000000', code: '123456' })
  })).json() as { access_token: string, refresh_token: string, user: { id: string } }
  const bearer = { authorization: `Bearer ${login.access_token}` }

  t.test('the token check and the profile', async (t) => {
    const check = await fetch(`${usersUrl}/user/access/token`, { headers: bearer })
    t.equal(check.status, 200)
    t.same(await check.json(), { detail: 'access token is valid', user_id: login.user.id })

    const mine = await fetch(`${usersUrl}/user/mine`, { headers: bearer })
    t.equal(mine.status, 200)
    t.match(await mine.json(), { id: login.user.id, username: null, avatar_url: null })

    const named = await fetch(`${usersUrl}/user/username`, { method: 'PUT', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ username: '  Ada  ' }) })
    t.equal(named.status, 200)
    t.equal((await named.json() as { username: string }).username, 'Ada')
  })

  t.test('upload an avatar and fetch it back byte for byte', async (t) => {
    const form = new FormData()
    form.append('file', new Blob([PNG], { type: 'image/png' }), 'me.png')
    const up = await fetch(`${usersUrl}/user/avatar`, { method: 'POST', headers: bearer, body: form })
    t.equal(up.status, 200)
    const { avatar_url: url } = await up.json() as { avatar_url: string }
    const got = await fetch(usersUrl + url)
    t.equal(got.status, 200)
    t.equal(got.headers.get('content-type'), 'image/png')
    t.same(Buffer.from(await got.arrayBuffer()), PNG)
  })

  t.test('oversized, wrong-type and truncated uploads get a 4xx and leave nothing behind', async (t) => {
    const before = (await readdir(avatarDir)).sort()
    const big = new FormData()
    big.append('file', new Blob([PNG, Buffer.alloc(80 * 1024)], { type: 'image/png' }), 'big.png')
    const r1 = await fetch(`${usersUrl}/user/avatar`, { method: 'POST', headers: bearer, body: big })
    t.equal(r1.status, 413)

    const fake = new FormData()
    fake.append('file', new Blob(['just some text, not an image'], { type: 'image/png' }), 'fake.png')
    const r2 = await fetch(`${usersUrl}/user/avatar`, { method: 'POST', headers: bearer, body: fake })
    t.equal(r2.status, 415)

    // A multipart body that stops in the middle of the file, then the client goes away.
    const { port: usersPort } = new URL(usersUrl)
    await new Promise<void>((resolve) => {
      const s = connect(Number(usersPort), '127.0.0.1', () => {
        const boundary = 'xyz'
        const head = `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.png"\r\ncontent-type: image/png\r\n\r\n`
        s.write(`POST /user/avatar HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${login.access_token}\r\n` +
          `content-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${head.length + 10_000}\r\n\r\n${head}`)
        s.write(PNG)
        setTimeout(() => { s.destroy(); resolve() }, 100)
      })
      s.on('error', () => resolve())
    })
    await new Promise((resolve) => setTimeout(resolve, 200))
    t.same((await readdir(avatarDir)).sort(), before, 'no file left behind')
  })

  t.test('a key rotation at the auth center needs no restart of the user service', async (t) => {
    const before = login.access_token
    t.equal((await fetch(`${usersUrl}/user/mine`, { headers: bearer })).status, 200)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await (auth as unknown as { deps: { keys: { rotate: (ms: number) => Promise<string> } } }).deps.keys.rotate(120_000) // what `keys:rotate` does
    const fresh = await (await fetch(`${issuer}/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mobile: '13800000000', code: '123456' })
    })).json() as { access_token: string }
    const kid = (jwt: string): string => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid
    t.not(kid(fresh.access_token), kid(before), 'signed with the new key')
    t.equal((await fetch(`${usersUrl}/user/mine`, { headers: { authorization: `Bearer ${fresh.access_token}` } })).status, 200, 'the new key is fetched on first sight')
    t.equal((await fetch(`${usersUrl}/user/mine`, { headers: { authorization: `Bearer ${before}` } })).status, 200, 'the old key still verifies its tokens')
  })

  t.test('after logout at the auth center, a refresh fails; the user service refuses a bad token', async (t) => {
    const bad = await fetch(`${usersUrl}/user/mine`, { headers: { authorization: `Bearer ${login.access_token.slice(0, -4)}AAAA` } })
    t.equal(bad.status, 401)
    t.match(bad.headers.get('www-authenticate'), /invalid_token/)
    t.equal((await bad.json() as { code: string }).code, 'TOKEN_INVALID')
  })
})
