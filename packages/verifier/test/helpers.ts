// Test fixtures: real keys made with jose, a real HTTP server on 127.0.0.1
// that serves metadata and the JWKS (and counts requests), and token makers
// for well-formed and hand-crafted tokens.
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { constants, KeyObject, randomUUID, sign as cryptoSign } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { JWK } from 'jose'
import type { Test } from 'tap'
import { createVerifier, TokenError } from '../src/index.js'
import type { Auth, Verifier, VerifierOptions, VerifyOptions } from '../src/index.js'

export const AUDIENCE = 'api'

export interface TestKey {
  kid: string
  alg: string
  /** For signing by hand with node:crypto. */
  privateKey: KeyObject
  /** For signing with jose. */
  cryptoKey: CryptoKey
  publicKey: KeyObject
  /** The public JWK as the auth center publishes it. */
  jwk: JWK
}

export async function makeKey (alg = 'EdDSA', kid: string = randomUUID(), jwkExtra: Partial<JWK> = {}): Promise<TestKey> {
  const pair = await generateKeyPair(alg, { extractable: true })
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig', ...jwkExtra }
  return {
    kid,
    alg,
    privateKey: KeyObject.from(pair.privateKey),
    cryptoKey: pair.privateKey,
    publicKey: KeyObject.from(pair.publicKey),
    jwk
  }
}

export interface AuthServer {
  issuer: string
  jwksUri: string
  /** The JWKS served; change it to rotate keys. */
  keys: unknown[]
  /** `oauth`: both metadata documents; `openid`: only openid-configuration; `none`: no metadata. */
  metadata: 'oauth' | 'openid' | 'none'
  /** Overrides the metadata `issuer` field. */
  metadataIssuer?: string
  /** `ok`, `error` (500 on the JWKS) or `hang` (never answer anything). */
  mode: 'ok' | 'error' | 'hang'
  /** Requests per path. */
  requests: Map<string, number>
  count: (path: string) => number
  close: () => Promise<void>
}

export async function startAuthServer (keys: unknown[]): Promise<AuthServer> {
  const requests = new Map<string, number>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    requests.set(path, (requests.get(path) ?? 0) + 1)
    if (state.mode === 'hang') return
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    }
    const metadata = { issuer: state.metadataIssuer ?? state.issuer, jwks_uri: state.jwksUri }
    if (path === '/.well-known/oauth-authorization-server' && state.metadata === 'oauth') return json(200, metadata)
    if (path === '/.well-known/openid-configuration' && state.metadata !== 'none') return json(200, metadata)
    if (path === '/jwks') return state.mode === 'error' ? json(500, { error: 'boom' }) : json(200, { keys: state.keys })
    json(404, { error: 'not found' })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const issuer = `http://127.0.0.1:${port}`
  const state: AuthServer = {
    issuer,
    jwksUri: `${issuer}/jwks`,
    keys,
    metadata: 'oauth',
    mode: 'ok',
    requests,
    count: (path) => requests.get(path) ?? 0,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
  return state
}

const now = (): number => Math.floor(Date.now() / 1000)

/** Claims of a valid access token from `issuer`, with overrides; an `undefined` override removes the claim. */
export function claims (issuer: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    iss: issuer,
    aud: AUDIENCE,
    sub: 'user-1',
    client_id: 'app',
    sid: 'session-1',
    scope: 'profile:read profile:write',
    jti: randomUUID(),
    iat: now(),
    exp: now() + 120,
    ...overrides
  }
  for (const [name, value] of Object.entries(base)) if (value === undefined) delete base[name]
  return base
}

export const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url')

/** The signature of `input` with `key` for a JWS `alg`, done with node:crypto. */
export function rawSignature (alg: string, input: string, key: KeyObject): Buffer {
  const hash = alg === 'EdDSA' || alg === 'Ed25519' ? null : `sha${alg.slice(2)}`
  if (alg.startsWith('ES')) return cryptoSign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
  if (alg.startsWith('PS')) return cryptoSign(hash, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 })
  return cryptoSign(hash, Buffer.from(input), key)
}

/**
 * A token built by hand: header and payload are objects (JSON-encoded) or
 * raw strings (used as the segment, already encoded); signed with `key`.
 */
export function craft (header: Record<string, unknown> | string, payload: unknown, key: TestKey, alg = key.alg): string {
  const h = typeof header === 'string' ? header : b64(JSON.stringify(header))
  const p = typeof payload === 'string' ? payload : b64(JSON.stringify(payload))
  return `${h}.${p}.${rawSignature(alg, `${h}.${p}`, key.privateKey).toString('base64url')}`
}

/** A valid token signed by hand, with claim and header overrides. */
export function token (server: AuthServer, key: TestKey, overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const h: Record<string, unknown> = { alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header }
  for (const [name, value] of Object.entries(h)) if (value === undefined) delete h[name]
  return craft(h, claims(server.issuer, overrides), key)
}

/** A valid token signed with jose's SignJWT, the way the auth center signs. */
export async function joseToken (server: AuthServer, key: TestKey, overrides: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims(server.issuer, overrides))
    .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid })
    .sign(key.cryptoKey)
}

/**
 * Options every `verifierFor` verifier gets (under the per-test ones); the
 * revocation suite sets `revocation` here to rerun the other suites with it,
 * the cache suites set `cache`.
 */
export const verifierDefaults: Partial<VerifierOptions> = {}

/**
 * With `repeat`, every call of a `verifierFor` verifier without a DPoP proof is
 * made twice, and the two answers must agree (the second is served from the
 * verified-token cache whenever the first accepted): the cache suite sets it.
 */
export const suiteMode = { repeat: false }

type Outcome = { ok: true, value: Auth } | { ok: false, error: unknown }
const outcome = async (p: Promise<Auth>): Promise<Outcome> => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }))
const describe = (o: Outcome): string => o.ok ? `accepted ${JSON.stringify(o.value.claims)}` : `refused ${o.error instanceof TokenError ? o.error.code : String(o.error)}`

/** Drops what the verifier logs: refusal tests make key loading fail on purpose. */
export const quietLogger = { warn: (): void => {}, info: (): void => {} }

/** A logger that keeps every call, for tests of what is logged. */
export function recordingLogger (): { calls: Array<{ level: 'warn' | 'info', obj: Record<string, unknown>, msg: string }>, warn: (obj: Record<string, unknown>, msg: string) => void, info: (obj: Record<string, unknown>, msg: string) => void } {
  const calls: Array<{ level: 'warn' | 'info', obj: Record<string, unknown>, msg: string }> = []
  return { calls, warn: (obj, msg) => { calls.push({ level: 'warn', obj, msg }) }, info: (obj, msg) => { calls.push({ level: 'info', obj, msg }) } }
}

/** A verifier for `server`, closed when the test ends. */
export function verifierFor (
  t: { teardown: (fn: () => unknown) => void },
  server: AuthServer,
  options: Partial<VerifierOptions> = {}
): Verifier {
  const verify = createVerifier({ issuer: server.issuer, audience: AUDIENCE, logger: quietLogger, ...verifierDefaults, ...options })
  t.teardown(() => verify.close())
  if (!suiteMode.repeat) return verify
  const twice = async (tok: unknown, o?: VerifyOptions): Promise<Auth> => {
    const first = await outcome(verify(tok, o))
    if (o?.dpop === undefined) {
      const second = await outcome(verify(tok, o))
      if (describe(first) !== describe(second)) {
        throw new Error(`the repeated call answered differently: first ${describe(first)}, then ${describe(second)}`)
      }
    }
    if (!first.ok) throw first.error
    return first.value
  }
  return Object.assign(twice, { verify: twice, close: verify.close, ready: verify.ready, revocation: verify.revocation, cache: verify.cache })
}

/** Asserts that `verify(tok)` rejects with a TokenError of `code` (never a plain error). */
export async function refuses (t: Test, verify: Verifier, tok: unknown, code: string, name: string): Promise<TokenError | undefined> {
  const err = await verify(tok).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof TokenError, `${name}: is a TokenError`, { got: String(err) })
  t.equal((err as TokenError | undefined)?.code, code, name)
  return err instanceof TokenError ? err : undefined
}
