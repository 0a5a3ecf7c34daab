import t from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { errorCodes as tokenErrorCodes } from '@authcenter/verifier'
import { ERROR_CODES } from '../../src/errors.js'
import { openApiPath } from '../../src/openapi/plugin.js'
import { routeErrors } from '../../src/openapi/route-errors.js'
import { startService } from '../helper.js'

// Routes left out of the document on purpose (schema.hide), and only these.
const HIDDEN = ['GET /openapi.json', 'GET /docs', 'GET /metrics']

const routes: string[] = []
const replySchemas = new Map<string, Record<string, unknown> | undefined>()
const service = await startService(t, {}, {
  onRoute: (route) => {
    for (const m of [route.method].flat()) {
      // HEAD routes are the GET routes Fastify adds by itself.
      if (m === 'HEAD') continue
      const key = `${m} ${openApiPath(route.url)}`
      routes.push(key)
      replySchemas.set(key, (route.schema as { response?: Record<string, unknown> } | undefined)?.response)
    }
  }
})
const res = await fetch(`${service.url}/openapi.json`)
const doc = await res.json() as any
const operations = Object.entries(doc.paths as Record<string, Record<string, any>>)
  .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })))
  .filter(({ key }) => !HIDDEN.includes(key))
const op = (key: string): any => operations.find((o) => o.key === key)?.op

t.test('GET /openapi.json is a valid OpenAPI 3.1 document', async (t) => {
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^application\/json/)
  t.equal(doc.openapi, '3.1.0')
  const result = await new Validator().validate(doc)
  t.same(result.errors, undefined, 'no validation errors')
  t.equal(result.valid, true)
})

t.test('every registered route is in the document, and nothing else', async (t) => {
  const visible = routes.filter((r) => !HIDDEN.includes(r)).sort()
  t.equal(visible.length, 7, 'healthz, readyz, three /user routes, the avatar upload and download')
  t.same(operations.map((o) => o.key).sort(), visible)
  t.same(Object.keys(routeErrors).sort(), visible, 'route-errors.ts has one entry per route')
  for (const { key, op } of operations) t.type(op.summary, 'string', `${key} has a summary`)
})

t.test('every route has a TypeBox reply schema, and the document shows each success body', async (t) => {
  for (const { key, op } of operations) {
    const schemas = replySchemas.get(key)
    t.ok(schemas !== undefined && Object.keys(schemas).some((s) => /^2/.test(s)), `${key} declares its success reply`)
    for (const [status, r] of Object.entries(op.responses as Record<string, any>)) {
      if (/^2/.test(status)) t.not(r.content, undefined, `${key} ${status} shows its body`)
    }
  }
})

t.test('error codes: from the registries, the verifier\'s on every route that takes a token', async (t) => {
  const known = new Set<string>([...ERROR_CODES, ...Object.keys(tokenErrorCodes), 'FST_ERR_VALIDATION'])
  const listed = new Set<string>()
  for (const { key, op } of operations) {
    for (const c of (op['x-error-codes'] ?? []) as string[]) {
      t.ok(known.has(c), `${key}: ${c} is in a registry`)
      listed.add(c)
    }
  }
  // Answered on any path (not-found handler, error handler), or by a hidden route.
  const anyRoute = ['NOT_FOUND', 'INTERNAL_ERROR', 'METRICS_UNAUTHORIZED']
  t.same(ERROR_CODES.filter((c) => !listed.has(c) && !anyRoute.includes(c)), [], 'every code of errors.ts is documented on a route')
  for (const key of ['GET /user/mine', 'PUT /user/username', 'GET /user/access/token', 'POST /user/avatar']) {
    t.same(Object.keys(tokenErrorCodes).filter((c) => !op(key)['x-error-codes'].includes(c)), [], `${key} lists every verifier code`)
  }
  t.same(op('PUT /user/username')['x-error-codes'].includes('INVALID_USERNAME'), true)
  t.same(op('GET /avatars/{name}')['x-error-codes'], ['AVATAR_NOT_FOUND', 'FST_ERR_VALIDATION'])
  t.equal(op('GET /healthz')['x-error-codes'], undefined)
})

t.test('security schemes: Bearer and DPoP, on the routes that take a token', async (t) => {
  t.same(doc.components.securitySchemes.bearer.scheme, 'bearer')
  t.same(doc.components.securitySchemes.dpop.scheme, 'DPoP')
  const guarded = operations.filter(({ op }) => op.security !== undefined).map(({ key }) => key).sort()
  t.same(guarded, ['GET /user/access/token', 'GET /user/mine', 'POST /user/avatar', 'PUT /user/username'])
  for (const key of guarded) t.same(op(key).security, [{ bearer: [] }, { dpop: [] }])
})

t.test('GET /docs renders the document as one page with nothing to fetch', async (t) => {
  const page = await fetch(`${service.url}/docs`)
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), /^text\/html/)
  t.equal(page.headers.get('content-security-policy'), "default-src 'none'")
  const html = await page.text()
  t.match(html, '<code>PUT /user/username</code>')
  t.match(html, '<code>INVALID_USERNAME</code>')
  t.notMatch(html, /<script|<link/)
})
