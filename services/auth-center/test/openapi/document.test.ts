import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { errorCodes as tokenErrorCodes } from '@authcenter/verifier'
import { build, loadConfig } from '../../src/app.js'
import { errorCodes } from '../../src/errors.js'
import { oauthErrorCodes } from '../../src/oauth/errors.js'
import { openApiPath } from '../../src/openapi/plugin.js'
import { routeDocs } from '../../src/openapi/route-docs.js'

// Routes left out of the document on purpose (schema.hide), and only these.
const HIDDEN = ['GET /openapi.json', 'GET /docs', 'GET /metrics']

const dataDir = await mkdtemp(join(tmpdir(), 'authcenter-openapi-'))
const routes: string[] = []
const replySchemas = new Map<string, Record<string, unknown> | undefined>()
const app = await build(loadConfig({
  AUTH_ISSUER: 'http://auth.test',
  AUTH_DATA_DIR: dataDir,
  // The admin API only exists with a credential: it must be documented too.
  AUTH_ADMIN_TOKEN: 'openapi-test-admin-token-0123456789'
}), {
  logger: false,
  // HEAD routes are the GET routes Fastify adds by itself.
  onRoute: (route) => {
    for (const m of [route.method].flat()) {
      if (m === 'HEAD') continue
      routes.push(`${m} ${openApiPath(route.url)}`)
      replySchemas.set(`${m} ${openApiPath(route.url)}`, (route.schema as { response?: Record<string, unknown> } | undefined)?.response)
    }
  }
})
const url = await app.listen({ host: '127.0.0.1', port: 0 })
t.teardown(async () => {
  await app.close()
  await rm(dataDir, { recursive: true, force: true, maxRetries: 3 })
})

const res = await fetch(`${url}/openapi.json`)
const doc = await res.json() as any
const operations = Object.entries(doc.paths as Record<string, Record<string, any>>)
  .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })))
  .filter(({ key }) => !HIDDEN.includes(key))

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
  t.ok(visible.length >= 30, `${visible.length} routes collected`)
  t.same(operations.map((o) => o.key).sort(), visible)
  t.same(Object.keys(routeDocs).sort(), visible, 'route-docs.ts has one entry per route')
  for (const { key, op } of operations) t.type(op.summary, 'string', `${key} has a summary`)
})

t.test('every route has a TypeBox reply schema, and the document shows each success body', async (t) => {
  for (const { key, op } of operations) {
    const schemas = replySchemas.get(key)
    t.ok(schemas !== undefined && Object.keys(schemas).some((s) => /^[23]/.test(s)), `${key} declares its success reply`)
    for (const [status, r] of Object.entries(op.responses as Record<string, any>)) {
      if (!/^2/.test(status) || status === '204') continue
      // A null body (RFC 7009's empty 200) has no content to show.
      const empty = (schemas?.[status] as { type?: string } | undefined)?.type === 'null'
      t.equal(r.content === undefined, empty, `${key} ${status} ${empty ? 'has no body' : 'shows its body'}`)
    }
  }
})

t.test('error codes: every one comes from a registry, and every operation that can fail lists them', async (t) => {
  const known = new Set<string>([...errorCodes, ...Object.keys(tokenErrorCodes), ...oauthErrorCodes])
  const listed = new Set<string>()
  for (const { key, op } of operations) {
    const codes = op['x-error-codes'] as string[] | undefined
    for (const c of codes ?? []) {
      t.ok(known.has(c), `${key}: ${c} is in a registry`)
      listed.add(c)
    }
  }
  // Answered by the not-found handler and the body parser on any path, not by one route.
  const anyRoute = ['NOT_FOUND', 'BODY_TOO_LARGE']
  t.same(errorCodes.filter((c) => !listed.has(c) && !anyRoute.includes(c)), [], 'every code of errors.ts is documented on a route')
  const op = (key: string): any => operations.find((o) => o.key === key)?.op
  t.same(op('POST /auth/refresh')['x-error-codes'].includes('REFRESH_TOKEN_REUSED'), true)
  t.same(op('DELETE /auth/sessions/{id}')['x-error-codes'].filter((c: string) => ['SESSION_NOT_FOUND', 'TOKEN_EXPIRED', 'SESSION_REVOKED', 'FST_ERR_VALIDATION'].includes(c)).length, 4)
  t.equal(op('GET /healthz')['x-error-codes'], undefined, 'the liveness probe answers no error code')
})

t.test('security schemes: Bearer, DPoP and admin, on the routes that need them', async (t) => {
  const schemes = doc.components.securitySchemes
  t.same(schemes.bearer.scheme, 'bearer')
  t.same(schemes.dpop.scheme, 'DPoP')
  t.same(schemes.admin.type, 'http')
  const op = (key: string): any => operations.find((o) => o.key === key)?.op
  t.same(op('GET /auth/sessions').security, [{ bearer: [] }, { dpop: [] }])
  t.same(op('PUT /auth/password').security, [{ bearer: [] }, { dpop: [] }])
  t.same(op('DELETE /admin/sessions/{id}').security, [{ admin: [] }])
  t.same(op('GET /revocations').security, [{ revocationFeed: ['revocations:read'] }])
  t.equal(op('POST /auth/login').security, undefined, 'logging in takes no credential')
  const bearerGuarded = operations.filter(({ op }) => (op.security ?? []).some((s: object) => 'bearer' in s)).length
  t.equal(bearerGuarded, operations.filter(({ key }) => /^(GET|PUT|POST|DELETE) \/(auth\/(sessions|password|logout|consents)|oauth\/userinfo)/.test(key)).length)
})

t.test('GET /docs renders the document as one page with nothing to fetch', async (t) => {
  const page = await fetch(`${url}/docs`)
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), /^text\/html/)
  t.equal(page.headers.get('content-security-policy'), "default-src 'none'")
  const html = await page.text()
  t.match(html, '<code>POST /auth/login</code>')
  t.match(html, '<code>REFRESH_TOKEN_REUSED</code>')
  t.notMatch(html, /<script|<link/)
})
