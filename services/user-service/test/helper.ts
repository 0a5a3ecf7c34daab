import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { build, type BuildOptions } from '../src/app.js'
import { loadConfig, type Config } from '../src/config.js'

// jose is not a dependency of this package (only of the verifier), so tokens are
// minted with node:crypto: an Ed25519 JWS is three base64url parts.

export const ISSUER = 'http://authcenter.test'
export const AUDIENCE = 'authcenter'

export interface Issuer {
  jwksUri: string
  /** Signs an access token for `sub`; `claims` and `header` override the defaults (undefined removes one). */
  mint: (sub: string, claims?: Record<string, unknown>, header?: Record<string, unknown>) => string
  /** A token signed by a key the JWKS does not publish. */
  mintForeign: (sub: string) => string
  close: () => Promise<void>
}

function jws (header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${enc(header)}.${enc(payload)}`
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`
}

function dropUndefined (o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
}

/** A fake auth center: one Ed25519 key, its JWKS served on 127.0.0.1:0. */
export async function startIssuer (): Promise<Issuer> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const foreign = generateKeyPairSync('ed25519').privateKey
  const kid = 'test-key-1'
  const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' }] }
  const server: Server = createServer((req, res) => {
    if (req.url === '/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks))
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  const mintWith = (key: KeyObject, sub: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string => {
    const now = Math.floor(Date.now() / 1000)
    return jws(
      dropUndefined({ alg: 'EdDSA', typ: 'at+jwt', kid, ...header }),
      dropUndefined({
        iss: ISSUER,
        sub,
        aud: AUDIENCE,
        iat: now,
        exp: now + 120,
        jti: randomUUID(),
        client_id: 'first-party',
        sid: randomUUID(),
        // As the auth center issues them: a first-party token says so (ac_kind) and has no
        // scope; a third-party one (tests pass `scope`) says third-party. `claims` overrides both.
        ac_kind: claims.scope === undefined ? 'first-party' : 'third-party',
        ...claims
      }),
      key
    )
  }

  return {
    jwksUri: `http://127.0.0.1:${port}/jwks.json`,
    mint: (sub, claims, header) => mintWith(privateKey, sub, claims, header),
    mintForeign: (sub) => mintWith(foreign, sub),
    close: async () => { server.closeAllConnections(); await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
}

export interface TestService {
  app: FastifyInstance
  config: Config
  /** http://127.0.0.1:<port> */
  url: string
  avatarDir: string
  issuer: Issuer
  /** Files in AVATAR_DIR, sorted. */
  listAvatars: () => Promise<string[]>
}

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * Starts the service for real on 127.0.0.1:0 with a fresh AVATAR_DIR and its
 * own fake issuer; everything is torn down with the test.
 */
export async function startService (t: Teardown, env: Record<string, string> = {}, options: BuildOptions = {}): Promise<TestService> {
  const issuer = await startIssuer()
  const avatarDir = await mkdtemp(join(tmpdir(), 'user-service-avatars-'))
  const config = loadConfig({
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_JWKS_URI: issuer.jwksUri,
    AVATAR_DIR: avatarDir,
    LOG_LEVEL: 'silent',
    ...env
  })
  // The fake issuer serves no revocation feed: an empty one in process stands for it
  // (the service always follows one; integration tests use the real auth center's).
  const feed = { load: async () => ({ epoch: `${Date.now() - 60_000}:test`, entries: [] }), subscribe: () => () => {} }
  const app = await build(config, { revocationSource: feed, ...options })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  t.teardown(async () => {
    await app.close()
    await issuer.close()
    await rm(avatarDir, { recursive: true, force: true })
  })
  return {
    app,
    config,
    url: `http://127.0.0.1:${port}`,
    avatarDir,
    issuer,
    listAvatars: async () => (await readdir(avatarDir)).sort()
  }
}

export function bearer (token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

/** Small but real images: each starts with its format's magic bytes. */
export const images = {
  // 1x1 PNG
  png: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64'),
  // 1x1 GIF89a
  gif: Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'),
  // 1x1 lossless WebP
  webp: Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64'),
  // SOI, a JFIF APP0 segment, EOI
  jpg: Buffer.from([
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xd9
  ])
}

/** A PNG signature followed by `size - 8` bytes of padding: passes the magic-byte check, has any size. */
export function pngOfSize (size: number): Buffer {
  const b = Buffer.alloc(size, 0x41)
  images.png.copy(b, 0, 0, 8)
  return b
}

export function form (file: Buffer, filename = 'a.png', type = 'image/png', field = 'file'): FormData {
  const fd = new FormData()
  fd.append(field, new Blob([new Uint8Array(file)], { type }), filename)
  return fd
}
