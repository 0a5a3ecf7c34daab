import { base64url } from './base64url.js'

/** A DPoP key: the private half never leaves WebCrypto; the public JWK goes in every proof. */
export interface DpopKey {
  privateKey: CryptoKey
  jwk: { kty: string, crv: string, x: string, y: string }
}

const ES256 = { name: 'ECDSA', namedCurve: 'P-256' } as const

/**
 * A fresh ES256 key whose private half is not extractable: script in the page
 * can sign with it while it runs, but can never copy it elsewhere.
 */
export async function generateDpopKey (): Promise<DpopKey> {
  const pair = await crypto.subtle.generateKey(ES256, false, ['sign', 'verify'])
  return await dpopKeyFrom(pair)
}

/** A `CryptoKeyPair` (ES256) as a {@link DpopKey}; the public key must be exportable (it always is when generated). */
export async function dpopKeyFrom (pair: CryptoKeyPair): Promise<DpopKey> {
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey)
  if (kty !== 'EC' || crv !== 'P-256' || x === undefined || y === undefined) throw new TypeError('@authcenter/client: the DPoP key must be ES256 (P-256)')
  return { privateKey: pair.privateKey, jwk: { kty, crv, x, y } }
}

/**
 * A proof for one request (RFC 9449 §4.2): `htu` without query and fragment,
 * `ath` when an access token goes with it, the server's nonce when it gave one.
 */
export async function dpopProof (key: DpopKey, method: string, url: string, accessToken?: string, nonce?: string): Promise<string> {
  const u = new URL(url)
  const claims: Record<string, unknown> = {
    jti: crypto.randomUUID(), htm: method.toUpperCase(), htu: u.origin + u.pathname, iat: Math.floor(Date.now() / 1000)
  }
  if (accessToken !== undefined) claims.ath = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken))))
  if (nonce !== undefined) claims.nonce = nonce
  const input = `${base64url(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk }))}.${base64url(JSON.stringify(claims))}`
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, new TextEncoder().encode(input))
  return `${input}.${base64url(new Uint8Array(signature))}`
}
