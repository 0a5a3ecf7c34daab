/**
 * Keys and realistic RFC 9068 access tokens, shaped like the ones the auth
 * center issues (services/auth-center/src/tokens/access-token.ts): header
 * `{alg, typ: "at+jwt", kid}`, claims iss, sub, aud, exp, iat, jti,
 * client_id, sid, scope. Signed here with node:crypto, before any timing.
 */
import { generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto'

export type Alg = 'EdDSA' | 'ES256' | 'RS256'
export const ALGS: readonly Alg[] = ['EdDSA', 'ES256', 'RS256']

export const ISSUER = 'http://localhost:4000'
export const AUDIENCE = 'authcenter'
export const SCOPE = 'profile:read profile:write orders:read'

export interface KeyPair {
  alg: Alg
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
  /** The public key as a JWK with kid, alg, use. */
  jwk: Record<string, string>
  /** SPKI PEM of the public key (fast-jwt, @fastify/jwt). */
  pem: string
  /** First argument of crypto.sign/verify. */
  hash: string | null
  /** Second argument of crypto.verify (ECDSA signatures in JWS are IEEE P1363). */
  verifyKey: KeyObject | { key: KeyObject, dsaEncoding: 'ieee-p1363' }
}

export function keyPair (alg: Alg): KeyPair {
  const { privateKey, publicKey } = alg === 'EdDSA'
    ? generateKeyPairSync('ed25519')
    : alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = randomBytes(8).toString('base64url')
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as Record<string, string>), kid, alg, use: 'sig' }
  return {
    alg,
    kid,
    privateKey,
    publicKey,
    jwk,
    pem: publicKey.export({ format: 'pem', type: 'spki' }) as string,
    hash: alg === 'EdDSA' ? null : 'sha256',
    verifyKey: alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey
  }
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

export interface TokenOptions {
  ttlSeconds?: number
  sub?: string
}

/** One signed access token with fresh sub, jti and sid. */
export function accessToken (kp: KeyPair, opts: TokenOptions = {}): string {
  const iat = Math.floor(Date.now() / 1000)
  const header = b64({ alg: kp.alg, typ: 'at+jwt', kid: kp.kid })
  const payload = b64({
    iss: ISSUER,
    sub: opts.sub ?? randomUUID(),
    aud: AUDIENCE,
    exp: iat + (opts.ttlSeconds ?? 3600),
    iat,
    jti: randomBytes(16).toString('base64url'),
    client_id: 'default',
    sid: randomBytes(16).toString('base64url'),
    scope: SCOPE
  })
  const input = `${header}.${payload}`
  const key = kp.alg === 'ES256' ? { key: kp.privateKey, dsaEncoding: 'ieee-p1363' as const } : kp.privateKey
  return `${input}.${sign(kp.hash, Buffer.from(input), key).toString('base64url')}`
}

export function tokenPool (kp: KeyPair, count: number): string[] {
  const out = new Array<string>(count)
  for (let i = 0; i < count; i++) out[i] = accessToken(kp)
  return out
}

/** A fetch that answers every request with this JWKS (the verifier loads keys through it, no socket). */
export function jwksFetch (jwks: { keys: Array<Record<string, string>> }): typeof globalThis.fetch {
  const body = JSON.stringify(jwks)
  return (async () => new Response(body, { status: 200, headers: { 'content-type': 'application/json' } })) as typeof globalThis.fetch
}

export const JWKS_URI = 'http://127.0.0.1:9/jwks.json'
