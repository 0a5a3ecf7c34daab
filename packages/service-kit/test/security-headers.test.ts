import { test } from 'tap'
import Fastify from 'fastify'
import { securityHeaders } from '../src/index.js'

class NotFound extends Error {
  code = 'NOT_FOUND'
  constructor () { super('Not found') }
}

test('nosniff on every answer, HSTS only when asked, a 404 that does not echo the path', async (t) => {
  for (const hsts of [false, true]) {
    const app = Fastify()
    await app.register(securityHeaders, { hsts, notFound: NotFound })
    app.get('/ok', async () => ({ ok: true }))
    t.teardown(async () => { await app.close() })

    const ok = await app.inject({ method: 'GET', url: '/ok' })
    t.equal(ok.statusCode, 200)
    t.equal(ok.headers['x-content-type-options'], 'nosniff')
    t.equal(ok.headers['strict-transport-security'], hsts ? 'max-age=31536000' : undefined)

    const missing = await app.inject({ method: 'GET', url: '/no/such/<script>' })
    t.equal(missing.statusCode, 404)
    t.equal(missing.headers['x-content-type-options'], 'nosniff')
    t.same(missing.json(), { statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: 'Not found' })
    t.notMatch(missing.body, /script|no\/such/)
  }
})
