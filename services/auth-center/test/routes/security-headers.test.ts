import t from 'tap'
import { startAuthCenter } from '../helpers/auth-center.js'

const NOT_FOUND = { statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: 'Not found' }

t.test('every answer says nosniff; HSTS only with an https issuer; a 404 does not echo the path (issue #12)', async (t) => {
  const ac = await startAuthCenter()
  t.teardown(() => ac.close())
  const answers = [
    await ac.call('GET', '/.well-known/jwks.json'),
    await ac.call('POST', '/auth/login', { mobile: 'nope' }),
    await ac.call('POST', '/auth/refresh', { refresh_token: 'x' }),
    await ac.call('GET', '/auth/sessions'),
    await ac.call('POST', '/oauth/token', 'grant_type=password', { 'content-type': 'application/x-www-form-urlencoded' }),
    await ac.call('GET', '/healthz')
  ]
  for (const a of answers) {
    t.equal(a.headers.get('x-content-type-options'), 'nosniff', `${a.status}`)
    t.equal(a.headers.get('strict-transport-security'), null, 'no HSTS on an http issuer')
  }

  const probe = '/no-such-route/%3Cscript%3Ealert(1)%3C%2Fscript%3E'
  const res = await fetch(`${ac.url}${probe}?q=<b>`)
  t.equal(res.status, 404)
  t.equal(res.headers.get('x-content-type-options'), 'nosniff')
  const text = await res.text()
  t.same(JSON.parse(text), NOT_FOUND)
  t.notMatch(text, /no-such-route|script|GET/, 'neither path nor method in the body')
  const post = await ac.call('POST', '/auth/nothing-here', {})
  t.same(post.body, NOT_FOUND)

  const secure = await startAuthCenter({ AUTH_ISSUER: 'https://auth.example' })
  t.teardown(() => secure.close())
  for (const path of ['/.well-known/jwks.json', '/missing', '/healthz']) {
    const r = await secure.call('GET', path)
    t.equal(r.headers.get('strict-transport-security'), 'max-age=31536000', path)
    t.equal(r.headers.get('x-content-type-options'), 'nosniff', path)
  }
})
