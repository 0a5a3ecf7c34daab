import { randomBytes } from 'node:crypto'
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Client } from '../clients/client.js'
import { PolicySchema, defaultPolicy, registrationToClient, type RegistrationEntry } from '../clients/registry.js'
import { ConfigError } from '../config.js'
import { ClientExistsError, ClientNotFoundError, ClientReadOnlyError, InvalidClientMetadataError } from '../errors.js'
import { audit } from '../auth/audit.js'
import { hashClientSecret } from '../oauth/client-auth.js'
import { AUTH_METHODS, OAuthClientFields } from '../oauth/client-config.js'
import { replies } from '../schemas.js'
import { clientSubject } from '../sessions/kind.js'
import { revokeSession, revokeUserSessions } from '../sessions/revoke.js'
import type { StoredClient } from '../store/store.js'

const ClientId = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })
const { client_secret_sha256: _secretHash, ...RegistrationFields } = OAuthClientFields

/** A registration: the fields of a clients-file OAuth2 entry, without the secret hash (the auth center makes the secret). */
export const ClientRegistration = Type.Object({
  client_id: Type.Optional(ClientId),
  name: Type.Optional(Type.String({ maxLength: 128 })),
  type: Type.Union([Type.Literal('confidential'), Type.Literal('public')]),
  ...RegistrationFields,
  policy: Type.Optional(PolicySchema)
}, { additionalProperties: false })
type ClientRegistration = Static<typeof ClientRegistration>

/** What the admin API shows of a client: never a secret nor its hash (the reply schema drops anything else). */
export const ClientView = Type.Object({
  client_id: Type.String(),
  name: Type.String(),
  type: Type.Union([Type.Literal('confidential'), Type.Literal('public')]),
  /** `file`: AUTH_CLIENTS_FILE (read-only here); `api`: registered through this API. */
  source: Type.Union([Type.Literal('file'), Type.Literal('api')]),
  token_endpoint_auth_method: Type.Union(AUTH_METHODS.map((m) => Type.Literal(m))),
  redirect_uris: Type.Array(Type.String()),
  grant_types: Type.Array(Type.String()),
  scope: Type.String(),
  audience: Type.String(),
  jwks: Type.Optional(Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) })),
  access_token_ttl_s: Type.Integer(),
  created_at: Type.Union([Type.String(), Type.Null()])
})
type ClientView = Static<typeof ClientView>

const Created = Type.Composite([ClientView, Type.Object({
  /** Only in the 201 of the registration, once: only its SHA-256 is kept. */
  client_secret: Type.Optional(Type.String())
})])

/**
 * `/admin/clients`: third-party (OAuth2) clients registered at run time, kept in the
 * store (putClient/getClient/listClients/deleteClient) beside those of the clients
 * file, which this API shows but never replaces or deletes (409 CLIENT_READ_ONLY).
 * Registered inside the admin plugin (admin/routes.ts), behind its credential check.
 */
export function adminClientRoutes (app: FastifyInstance): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>()
  const deps = app.deps

  r.post('/admin/clients', {
    schema: { body: ClientRegistration, response: replies({ 201: Created }) }
  }, async (request, reply) => {
    const body = request.body
    const clientId = body.client_id ?? `c-${randomBytes(12).toString('base64url')}`
    if (deps.clients.isFileClient(clientId)) throw new ClientExistsError()

    const { client_id: _id, ...fields } = body
    const registration: RegistrationEntry = { ...fields, client_id: clientId }
    const usesKeys = body.token_endpoint_auth_method === 'private_key_jwt' || (body.token_endpoint_auth_method === undefined && body.jwks !== undefined)
    if (body.type === 'confidential' && body.jwks !== undefined && !usesKeys) {
      throw new InvalidClientMetadataError('jwks: only for token_endpoint_auth_method private_key_jwt')
    }
    // A 256-bit random secret, shown once; only its SHA-256 is kept (client-auth.ts).
    const secret = body.type === 'confidential' && !usesKeys ? randomBytes(32).toString('base64url') : undefined
    if (secret !== undefined) registration.client_secret_sha256 = hashClientSecret(secret).toString('hex')

    const client = checkRegistration(app, registration)
    const stored: StoredClient = { clientId, createdAt: deps.now(), registration: registration as unknown as Record<string, unknown> }
    if (!(await deps.store.putClient(stored, { ifAbsent: true }))) throw new ClientExistsError()
    deps.clients.remember(clientId, stored)
    request.log.info({ clientId, type: body.type }, 'oauth client registered')
    await audit(deps, { type: 'client_registered', clientId, ip: request.clientIp, detail: { type: body.type } })
    return reply.code(201).send({ ...view(client, stored), ...(secret !== undefined ? { client_secret: secret } : {}) })
  })

  r.get('/admin/clients', {
    schema: { response: replies({ 200: Type.Object({ clients: Type.Array(ClientView) }) }) }
  }, async () => {
    const file = deps.clients.all().filter((c) => deps.clients.isFileClient(c.clientId) && c.type === 'oauth')
    const stored = await deps.store.listClients()
    const fromStore = stored.flatMap((s) => {
      const c = deps.clients.remember(s.clientId, s)
      return c === undefined || deps.clients.isFileClient(s.clientId) ? [] : [view(c, s)]
    })
    return { clients: [...file.map((c) => view(c)), ...fromStore] }
  })

  r.get('/admin/clients/:id', {
    schema: { params: Type.Object({ id: ClientId }), response: replies({ 200: ClientView }) }
  }, async (request) => {
    const id = request.params.id
    if (deps.clients.isFileClient(id)) {
      const c = deps.clients.get(id)!
      if (c.type !== 'oauth') throw new ClientNotFoundError()
      return view(c)
    }
    const stored = await deps.store.getClient(id)
    const c = deps.clients.remember(id, stored ?? undefined)
    if (stored === null || c === undefined) throw new ClientNotFoundError()
    return view(c, stored)
  })

  /**
   * Deletes the client, then revokes every grant it has: the sessions its
   * authorization codes made (indexed per client in the store) one by one, and its
   * client-credentials sessions (user = `client:<id>`, never a user's id) with one user-level revocation,
   * all through sessions/revoke.ts. Its refresh tokens and access tokens die with them.
   */
  r.delete('/admin/clients/:id', {
    schema: { params: Type.Object({ id: ClientId }), response: replies({ 200: Type.Object({ revoked: Type.Integer({ minimum: 0 }) }) }) }
  }, async (request) => {
    const id = request.params.id
    if (deps.clients.isFileClient(id)) throw new ClientReadOnlyError()
    const deleted = await deps.store.deleteClient(id)
    deps.clients.remember(id, undefined)
    if (!deleted) throw new ClientNotFoundError()
    // After the delete: a grant made meanwhile is indexed first and looks the client up after (grants/authorization-code.ts).
    let revoked = 0
    for (const sid of await deps.store.takeClientSessions(id)) {
      const s = await deps.store.getSession(sid)
      if (s !== null && s.revokedAt === undefined && await revokeSession(deps, sid, 'admin')) revoked++
    }
    revoked += (await revokeUserSessions(deps, clientSubject(id), 'admin')).length
    request.log.info({ clientId: id, revoked }, 'oauth client deleted')
    await audit(deps, { type: 'client_deleted', clientId: id, ip: request.clientIp, detail: { revoked } })
    return { revoked }
  })
}

/** Builds the client a registration makes, or 400 INVALID_CLIENT_METADATA naming the field. */
function checkRegistration (app: FastifyInstance, registration: RegistrationEntry): Client {
  const { config, clients } = app.deps
  let client: Client
  try {
    client = registrationToClient(registration, config, defaultPolicy(config), '')
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    throw new InvalidClientMetadataError(err.message.replace(/^AUTH_CLIENTS_FILE: \/clients\[[^\]]*\]/, '').replace(/^\//, ''))
  }
  // The denylist keeps an entry as long as the longest access token of the clients known at start can live.
  if (client.policy.accessTtlMs > clients.maxAccessTtlMs) {
    throw new InvalidClientMetadataError(`policy/accessTtl: at most ${Math.floor(clients.maxAccessTtlMs / 1000)} s (the longest access-token lifetime of the clients file)`)
  }
  return client
}

function view (c: Client, stored?: StoredClient): ClientView {
  const o = c.oauth!
  return {
    client_id: c.clientId,
    name: c.name,
    type: o.kind,
    source: stored === undefined ? 'file' : 'api',
    token_endpoint_auth_method: o.authMethods[0]!,
    redirect_uris: [...o.redirectUris],
    grant_types: [...o.grantTypes],
    scope: o.scopes.join(' '),
    audience: o.audience,
    ...(o.jwks !== undefined ? { jwks: o.jwks } : {}),
    access_token_ttl_s: Math.floor(c.policy.accessTtlMs / 1000),
    created_at: stored === undefined ? null : new Date(stored.createdAt).toISOString()
  }
}
