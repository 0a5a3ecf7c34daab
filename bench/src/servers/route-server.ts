/**
 * One Fastify app with one authenticated route, in its own process, on
 * 127.0.0.1 with an ephemeral port. argv[2] picks the guard:
 *   bare | ours | fastify-jwt | fastify-jwt-cache | jose
 * The public key comes in BENCH_JWK (a JWK with kid and alg). Sends `{ port }`
 * to the parent over IPC; exits when the parent goes away.
 */
import { createPublicKey } from 'node:crypto'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { createVerifier } from '@authcenter/verifier'
import verifierPlugin from '@authcenter/verifier/fastify'
import fastifyJwt from '@fastify/jwt'
import { jwtVerify } from 'jose'
import { AUDIENCE, ISSUER, JWKS_URI, jwksFetch } from '../tokens.js'

const mode = process.argv[2] ?? 'bare'
const jwk = JSON.parse(process.env.BENCH_JWK ?? '{}') as Record<string, string>
const alg = jwk.alg as 'EdDSA'

const app = Fastify({ logger: false })

let onRequest: ((request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) | undefined
if (mode === 'ours') {
  const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: jwksFetch({ keys: [jwk] }), algorithms: [alg] })
  await app.register(verifierPlugin, { verifier })
  onRequest = app.authenticate() as never
} else if (mode === 'fastify-jwt' || mode === 'fastify-jwt-cache') {
  const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'spki' }) as string
  await app.register(fastifyJwt, {
    secret: { public: pem, private: 'unused' },
    verify: {
      algorithms: [alg],
      allowedIss: ISSUER,
      allowedAud: AUDIENCE,
      checkTyp: 'at+jwt',
      ...(mode === 'fastify-jwt-cache' ? { cache: true } : {})
    } as never
  })
  onRequest = async (request, reply) => {
    try {
      await request.jwtVerify()
    } catch (err) {
      return reply.code(401).send({ statusCode: 401, code: 'TOKEN_INVALID', error: 'Unauthorized', message: (err as Error).message })
    }
  }
} else if (mode === 'jose') {
  const key = createPublicKey({ key: jwk, format: 'jwk' })
  const options = { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', algorithms: [alg] }
  onRequest = async (request, reply) => {
    const header = request.headers.authorization
    if (header === undefined || !/^bearer /i.test(header)) {
      return reply.code(401).send({ statusCode: 401, code: 'TOKEN_MISSING', error: 'Unauthorized', message: 'no token' })
    }
    try {
      const { payload } = await jwtVerify(header.slice(7), key, options);
      (request as unknown as { auth: unknown }).auth = payload
    } catch (err) {
      return reply.code(401).send({ statusCode: 401, code: 'TOKEN_INVALID', error: 'Unauthorized', message: (err as Error).message })
    }
  }
} else if (mode !== 'bare') {
  throw new Error(`unknown mode ${mode}`)
}

function subject (request: FastifyRequest): string {
  const r = request as unknown as { auth?: { sub: string }, user?: { sub: string } }
  return r.auth?.sub ?? r.user?.sub ?? 'anonymous'
}

app.get('/me', onRequest === undefined ? {} : { onRequest: onRequest as never }, async (request) => {
  return { id: subject(request), name: 'bench user' }
})

await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 })
process.on('disconnect', () => process.exit(0))
process.on('SIGTERM', () => { app.close().finally(() => process.exit(0)) })
