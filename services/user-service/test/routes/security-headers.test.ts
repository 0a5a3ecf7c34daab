import t from 'tap'
import { bearer, startService } from '../helper.js'

const NOT_FOUND = { statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: 'Not found' }

t.test('every answer says nosniff; a 404 does not echo the path (issue #12)', async (t) => {
  const svc = await startService(t)
  for (const [path, headers] of [['/healthz', {}], ['/user/mine', {}], ['/user/mine', bearer('nonsense')]] as const) {
    const res = await fetch(`${svc.url}${path}`, { headers })
    t.equal(res.headers.get('x-content-type-options'), 'nosniff', `${path} ${res.status}`)
    t.equal(res.headers.get('strict-transport-security'), null, 'no HSTS with an http issuer')
  }
  const res = await fetch(`${svc.url}/no-such-route/%3Cscript%3E?q=<b>`)
  t.equal(res.status, 404)
  t.equal(res.headers.get('x-content-type-options'), 'nosniff')
  const text = await res.text()
  t.same(JSON.parse(text), NOT_FOUND)
  t.notMatch(text, /no-such-route|script|GET/)
})

t.test('Strict-Transport-Security when the issuer is https', async (t) => {
  const svc = await startService(t, { AUTH_ISSUER: 'https://auth.example' })
  for (const path of ['/healthz', '/missing']) {
    const res = await fetch(`${svc.url}${path}`)
    t.equal(res.headers.get('strict-transport-security'), 'max-age=31536000', path)
  }
})
