import type { KeyObject } from 'node:crypto'

export { clientCredentials, type ClientCredentialsOptions, type TokenSource } from './client-credentials.js'

const ES256 = { name: 'ECDSA', namedCurve: 'P-256' } as const

/**
 * A Node `KeyObject` (an EC P-256 private key, e.g. loaded from a file) as the
 * `CryptoKeyPair` that `createClient({ dpop })` takes; the private half is
 * imported non-extractable.
 *
 * @example
 * ```ts
 * const key = createPrivateKey(readFileSync('device-key.pem'))
 * const auth = createClient({ issuer, clientId: 'ios', dpop: await dpopKeyPair(key) })
 * ```
 */
export async function dpopKeyPair (privateKey: KeyObject): Promise<CryptoKeyPair> {
  if (privateKey?.type !== 'private' || privateKey.asymmetricKeyType !== 'ec') throw new TypeError('@authcenter/client: dpopKeyPair wants an EC private KeyObject')
  const jwk = privateKey.export({ format: 'jwk' }) as JsonWebKey
  if (jwk.crv !== 'P-256') throw new TypeError('@authcenter/client: dpopKeyPair wants a P-256 key (ES256)')
  const { kty, crv, x, y } = jwk
  return {
    privateKey: await crypto.subtle.importKey('jwk', jwk, ES256, false, ['sign']),
    publicKey: await crypto.subtle.importKey('jwk', { kty, crv, x, y } as JsonWebKey, ES256, true, ['verify'])
  }
}
