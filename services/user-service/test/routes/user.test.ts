import t from 'tap'
import { bearer, startService } from '../helper.js'

t.test('GET /user/mine', async (t) => {
  const svc = await startService(t)
  const alice = svc.issuer.mint('1001')

  t.test('shows an empty profile the first time a user is seen', async (t) => {
    const res = await fetch(`${svc.url}/user/mine`, { headers: bearer(alice) })
    t.equal(res.status, 200)
    t.same(await res.json(), { id: '1001', username: null, avatar_url: null })
  })

  t.test('includes mobile when the token carries phone_number', async (t) => {
    const token = svc.issuer.mint('1002', { phone_number: '+8613800000000' })
    const res = await fetch(`${svc.url}/user/mine`, { headers: bearer(token) })
    t.same(await res.json(), { id: '1002', mobile: '+8613800000000', username: null, avatar_url: null })
  })

  t.test('a token of another user sees only that user\'s own profile', async (t) => {
    await fetch(`${svc.url}/user/username`, {
      method: 'PUT',
      headers: { ...bearer(alice), 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice' })
    })
    const bob = svc.issuer.mint('2002')
    const res = await fetch(`${svc.url}/user/mine`, { headers: bearer(bob) })
    t.same(await res.json(), { id: '2002', username: null, avatar_url: null })
    // There is no way to name another user: query strings are ignored.
    const res2 = await fetch(`${svc.url}/user/mine?user_id=1001`, { headers: bearer(bob) })
    t.equal((await res2.json()).id, '2002')
  })
})

t.test('access-token failures answer 401 with a code and WWW-Authenticate', async (t) => {
  const svc = await startService(t)
  const now = Math.floor(Date.now() / 1000)
  const cases: Array<[string, Record<string, string>, string]> = [
    ['no Authorization header', {}, 'TOKEN_MISSING'],
    ['a Basic header', { authorization: 'Basic dTpw' }, 'TOKEN_MISSING'],
    ['a malformed token', bearer('not.a.jwt'), 'TOKEN_MALFORMED'],
    ['an expired token', bearer(svc.issuer.mint('1', { exp: now - 600, iat: now - 720 })), 'TOKEN_EXPIRED'],
    ['a token for another audience', bearer(svc.issuer.mint('1', { aud: 'billing' })), 'TOKEN_INVALID'],
    ['a token from another issuer', bearer(svc.issuer.mint('1', { iss: 'http://evil.test' })), 'TOKEN_INVALID'],
    ['a token of another type', bearer(svc.issuer.mint('1', {}, { typ: 'JWT' })), 'TOKEN_INVALID'],
    ['a token signed by an unknown key', bearer(svc.issuer.mintForeign('1')), 'TOKEN_INVALID']
  ]
  for (const path of ['/user/mine', '/user/access/token']) {
    for (const [name, headers, code] of cases) {
      t.test(`${path}: ${name} -> ${code}`, async (t) => {
        const res = await fetch(`${svc.url}${path}`, { headers })
        t.equal(res.status, 401)
        const body = await res.json() as Record<string, unknown>
        // A key unknown to the JWKS may be reported either as invalid or as malformed-by-kid; both are 401.
        if (name !== 'a token signed by an unknown key') t.equal(body.code, code)
        t.match(body, { statusCode: 401, code: String, error: 'Unauthorized', message: String })
        t.match(res.headers.get('www-authenticate'), /^Bearer/)
      })
    }
  }

  t.test('PUT /user/username and POST /user/avatar need a token too', async (t) => {
    const put = await fetch(`${svc.url}/user/username`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'x y' })
    })
    t.equal(put.status, 401)
    t.equal((await put.json()).code, 'TOKEN_MISSING')
    const fd = new FormData()
    fd.append('file', new Blob([Buffer.from('GIF89a')]), 'a.gif')
    const post = await fetch(`${svc.url}/user/avatar`, { method: 'POST', body: fd })
    t.equal(post.status, 401)
    t.same(await svc.listAvatars(), [])
  })
})

t.test('GET /user/access/token confirms the token (the seed\'s token check)', async (t) => {
  const svc = await startService(t)
  const res = await fetch(`${svc.url}/user/access/token`, { headers: bearer(svc.issuer.mint('42')) })
  t.equal(res.status, 200)
  t.same(await res.json(), { detail: 'access token is valid', user_id: '42' })
})

t.test('PUT /user/username', async (t) => {
  const svc = await startService(t)
  const token = svc.issuer.mint('7')
  const put = async (body: string, contentType = 'application/json'): Promise<Response> => fetch(`${svc.url}/user/username`, {
    method: 'PUT', headers: { ...bearer(token), 'content-type': contentType }, body
  })

  t.test('sets the trimmed name and returns the profile', async (t) => {
    const res = await put(JSON.stringify({ username: '  小明 Li  ' }))
    t.equal(res.status, 200)
    t.same(await res.json(), { id: '7', username: '小明 Li', avatar_url: null })
    const mine = await fetch(`${svc.url}/user/mine`, { headers: bearer(token) })
    t.equal((await mine.json()).username, '小明 Li')
  })

  t.test('accepts 2 and 32 characters (counted as characters, not bytes)', async (t) => {
    t.equal((await put(JSON.stringify({ username: 'ab' }))).status, 200)
    t.equal((await put(JSON.stringify({ username: '字'.repeat(32) }))).status, 200)
    t.equal((await put(JSON.stringify({ username: '😀'.repeat(32) }))).status, 200)
  })

  const invalid: Array<[string, unknown]> = [
    ['one character', 'a'],
    ['one character after trimming', '   a   '],
    ['only spaces', '      '],
    ['33 characters', 'x'.repeat(33)],
    ['a very long name', 'x'.repeat(1000)],
    ['a newline', 'ab\ncd'],
    ['a NUL', 'ab\u0000cd'],
    ['a DEL', 'ab\u007fcd'],
    ['a bidi override', 'ab\u202ecd']
  ]
  for (const [name, username] of invalid) {
    t.test(`refuses ${name} with 400`, async (t) => {
      const res = await put(JSON.stringify({ username }))
      t.equal(res.status, 400)
      const body = await res.json() as Record<string, unknown>
      t.match(body.code, /^(INVALID_USERNAME|FST_ERR_VALIDATION)$/)
      t.match(body, { statusCode: 400, error: 'Bad Request', message: String })
    })
  }

  const malformed: Array<[string, string, string, number]> = [
    ['a number', JSON.stringify({ username: 12345 }), 'application/json', 400],
    ['no username', JSON.stringify({}), 'application/json', 400],
    ['an extra property', JSON.stringify({ username: 'alice', admin: true }), 'application/json', 400],
    ['malformed JSON', '{"username": "al', 'application/json', 400],
    ['an empty body', '', 'application/json', 400],
    ['a body over the limit', JSON.stringify({ username: 'x'.repeat(10_000) }), 'application/json', 413],
    ['a non-JSON content type', 'username=alice', 'application/x-www-form-urlencoded', 415]
  ]
  for (const [name, body, type, status] of malformed) {
    t.test(`refuses ${name} with ${status}`, async (t) => {
      const res = await put(body, type)
      t.equal(res.status, status)
      t.match(await res.json(), { statusCode: status, code: String, message: String })
    })
  }

  t.test('the failed attempts changed nothing', async (t) => {
    await put(JSON.stringify({ username: 'kept' }))
    await put(JSON.stringify({ username: 'x' }))
    const mine = await fetch(`${svc.url}/user/mine`, { headers: bearer(token) })
    t.equal((await mine.json()).username, 'kept')
  })
})
