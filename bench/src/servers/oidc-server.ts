/**
 * node-oidc-provider, configured as close to the auth center as it allows,
 * in its own process on 127.0.0.1 (ephemeral port). Sends `{ port }` over IPC.
 *
 * - client credentials grant with RFC 9068 JWT access tokens (resource
 *   indicators, accessTokenFormat 'jwt', EdDSA, 120 s)
 * - refresh_token grant with rotation on every use (rotateRefreshToken: true;
 *   reuse of a rotated token revokes the grant)
 * - BENCH_REDIS_URL set: a minimal ioredis adapter (the shape of the upstream
 *   example adapter), so every rotation is written to Redis before the answer.
 *   Unset: the default in-memory adapter (not durable).
 *
 * Refresh tokens normally come out of the authorization code flow (login and
 * consent interactions). To drive the refresh grant without a browser flow,
 * POST /bench/mint?n=K creates K grants and refresh tokens through the
 * provider's own models (what the code exchange would save), outside timing.
 */
import { createServer } from 'node:http'
import { generateKeyPairSync } from 'node:crypto'
import Provider from 'oidc-provider'
import { Redis } from 'ioredis'

const ISSUER = process.env.BENCH_ISSUER ?? 'http://127.0.0.1'
const RESOURCE = 'urn:authcenter:api'
const CLIENT_ID = 'bench'
const CLIENT_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef'

const redis = process.env.BENCH_REDIS_URL !== undefined ? new Redis(process.env.BENCH_REDIS_URL, { lazyConnect: false }) : undefined

const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest'])
const consumable = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest'])

class RedisAdapter {
  name: string
  constructor (name: string) { this.name = name }
  key (id: string): string { return `${this.name}:${id}` }
  async upsert (id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
    const r = redis!
    const key = this.key(id)
    const multi = r.multi()
    if (consumable.has(this.name)) multi.hset(key, { payload: JSON.stringify(payload) })
    else multi.set(key, JSON.stringify(payload))
    if (expiresIn !== undefined && expiresIn > 0) multi.expire(key, expiresIn)
    if (grantable.has(this.name) && typeof payload.grantId === 'string') {
      const grantKey = `grant:${payload.grantId}`
      multi.rpush(grantKey, key)
      if (expiresIn !== undefined && expiresIn > 0) multi.expire(grantKey, expiresIn, 'GT')
    }
    if (typeof payload.userCode === 'string') multi.set(`userCode:${payload.userCode}`, id, 'EX', expiresIn ?? 600)
    if (typeof payload.uid === 'string') multi.set(`uid:${payload.uid}`, id, 'EX', expiresIn ?? 600)
    await multi.exec()
  }

  async find (id: string): Promise<Record<string, unknown> | undefined> {
    const r = redis!
    if (consumable.has(this.name)) {
      const data = await r.hgetall(this.key(id))
      if (data.payload === undefined) return undefined
      const { payload, ...rest } = data
      return { ...JSON.parse(payload), ...(rest.consumed !== undefined ? { consumed: Number(rest.consumed) } : {}) }
    }
    const data = await r.get(this.key(id))
    return data === null ? undefined : JSON.parse(data)
  }

  async findByUid (uid: string): Promise<Record<string, unknown> | undefined> {
    const id = await redis!.get(`uid:${uid}`)
    return id === null ? undefined : this.find(id)
  }

  async findByUserCode (userCode: string): Promise<Record<string, unknown> | undefined> {
    const id = await redis!.get(`userCode:${userCode}`)
    return id === null ? undefined : this.find(id)
  }

  async consume (id: string): Promise<void> {
    await redis!.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000))
  }

  async destroy (id: string): Promise<void> {
    await redis!.del(this.key(id))
  }

  async revokeByGrantId (grantId: string): Promise<void> {
    const r = redis!
    const keys = await r.lrange(`grant:${grantId}`, 0, -1)
    const multi = r.multi()
    for (const k of keys) multi.del(k)
    multi.del(`grant:${grantId}`)
    await multi.exec()
  }
}

const { privateKey } = generateKeyPairSync('ed25519')
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-ed25519', alg: 'EdDSA', use: 'sig' }

const provider = new Provider(ISSUER, {
  ...(redis !== undefined ? { adapter: RedisAdapter as never } : {}),
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    grant_types: ['client_credentials', 'refresh_token', 'authorization_code'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/cb'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'EdDSA',
    scope: 'api:read offline_access'
  }],
  jwks: { keys: [signingJwk as never] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api:read',
        audience: 'authcenter',
        accessTokenTTL: 120,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'EdDSA' } }
      })
    }
  },
  scopes: ['api:read', 'offline_access'],
  findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  rotateRefreshToken: true,
  ttl: { AccessToken: 120, ClientCredentials: 120, RefreshToken: 15 * 86400, Grant: 15 * 86400 }
} as never)

const callback = provider.callback()

async function mint (n: number): Promise<string[]> {
  const p = provider as unknown as Record<string, any>
  const client = await p.Client.find(CLIENT_ID)
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const accountId = `user-${i}-${Date.now()}`
    const grant = new p.Grant({ accountId, clientId: CLIENT_ID })
    grant.addOIDCScope('offline_access')
    grant.addResourceScope(RESOURCE, 'api:read')
    const grantId = await grant.save()
    const rt = new p.RefreshToken({
      client,
      accountId,
      grantId,
      scope: 'offline_access api:read',
      resource: RESOURCE,
      gty: 'authorization_code',
      iiat: Math.floor(Date.now() / 1000),
      rotations: 0
    })
    out.push(await rt.save())
  }
  return out
}

const server = createServer((req, res) => {
  if (req.url?.startsWith('/bench/mint') === true) {
    const n = Number(new URL(req.url, 'http://x').searchParams.get('n') ?? '1')
    mint(n).then((tokens) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tokens }))
    }, (err: Error) => {
      res.writeHead(500).end(err.stack)
    })
    return
  }
  void callback(req, res)
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })
})
process.on('disconnect', () => process.exit(0))
process.on('SIGTERM', () => { server.close(); redis?.disconnect(); process.exit(0) })
