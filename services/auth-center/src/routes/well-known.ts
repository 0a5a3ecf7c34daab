import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { replies } from '../schemas.js'
import { oauthMetadata } from '../oauth/metadata.js'
import { REVOCATIONS_PATH, REVOCATIONS_STREAM_PATH } from '../revocations/routes.js'

const Jwks = Type.Object({
  keys: Type.Array(Type.Object({
    kty: Type.String(),
    kid: Type.String(),
    alg: Type.String(),
    use: Type.String(),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    y: Type.Optional(Type.String()),
    n: Type.Optional(Type.String()),
    e: Type.Optional(Type.String())
  }))
})

const Metadata = Type.Object({
  issuer: Type.String(),
  jwks_uri: Type.String(),
  response_types_supported: Type.Array(Type.String()),
  subject_types_supported: Type.Optional(Type.Array(Type.String())),
  id_token_signing_alg_values_supported: Type.Optional(Type.Array(Type.String())),
  // OAuth2 (src/oauth/metadata.ts)
  ...Object.fromEntries([
    'authorization_endpoint', 'token_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'userinfo_endpoint'
  ].map((k) => [k, Type.Optional(Type.String())])),
  // The revocation feed (docs/revocation-protocol.md): snapshot and Server-Sent Events stream.
  revocation_feed_endpoint: Type.String(),
  revocation_feed_stream_endpoint: Type.String(),
  authorization_response_iss_parameter_supported: Type.Optional(Type.Boolean()),
  ...Object.fromEntries([
    'response_modes_supported', 'grant_types_supported', 'token_endpoint_auth_methods_supported',
    'token_endpoint_auth_signing_alg_values_supported', 'introspection_endpoint_auth_methods_supported',
    'introspection_endpoint_auth_signing_alg_values_supported', 'revocation_endpoint_auth_methods_supported',
    'revocation_endpoint_auth_signing_alg_values_supported', 'code_challenge_methods_supported',
    'scopes_supported', 'claims_supported', 'dpop_signing_alg_values_supported'
  ].map((k) => [k, Type.Optional(Type.Array(Type.String()))])),
  authcenter_endpoints: Type.Object({
    sms_code: Type.String(),
    login: Type.String(),
    refresh: Type.String(),
    logout: Type.String(),
    password: Type.String()
  })
})

/**
 * JWKS and discovery. The reply schema of the JWKS lists only public members, so a
 * private key member can never be serialized even by mistake.
 */
const wellKnownRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { issuer } = app.deps.config

  app.get('/.well-known/jwks.json', {
    schema: { response: replies({ 200: Jwks }) }
  }, async (_request, reply) => {
    // Short enough that verifiers see a rotation soon; they refetch on an unknown kid anyway.
    reply.header('cache-control', 'public, max-age=300, stale-while-revalidate=60')
    return app.deps.keys.jwks() as Static<typeof Jwks>
  })

  function metadata (): Static<typeof Metadata> {
    return {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      // Only what exists (src/oauth/metadata.ts lists the OAuth2 endpoints, grants, methods, scopes).
      response_types_supported: [],
      ...oauthMetadata(app.deps),
      revocation_feed_endpoint: `${issuer}${REVOCATIONS_PATH}`,
      revocation_feed_stream_endpoint: `${issuer}${REVOCATIONS_STREAM_PATH}`,
      authcenter_endpoints: {
        sms_code: `${issuer}/auth/sms-code`,
        login: `${issuer}/auth/login`,
        refresh: `${issuer}/auth/refresh`,
        logout: `${issuer}/auth/logout`,
        password: `${issuer}/auth/password`
      }
    }
  }

  app.get('/.well-known/oauth-authorization-server', {
    schema: { response: replies({ 200: Metadata }) }
  }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300')
    return metadata()
  })

  app.get('/.well-known/openid-configuration', {
    schema: { response: replies({ 200: Metadata }) }
  }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300')
    return { ...metadata(), subject_types_supported: ['public'] }
  })
}

export default wellKnownRoutes
