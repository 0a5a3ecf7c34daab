export { createVerifier } from './verify.js'
export type { Auth, TokenKind, Verifier, VerifyOptions } from './verify.js'
export type { VerifierOptions } from './options.js'
export type {
  InProcessFeed, RedisLike, RedisSubscriberLike, RevocationLogger, RevocationOptions, RevocationSink, RevocationSource, RevocationState
} from './revocation.js'
export type { Algorithm } from './algorithms.js'
export type { VerifierLogger } from './logger.js'
export type { VerifierMetrics } from './metrics.js'
export { TokenError, errorCodes } from './errors.js'
/** For servers that accept Ed25519 keys from clients (private_key_jwt): a small-order key proves nothing. */
export { hasSmallOrder } from './ed25519-small-order.js'
/** Which library verifies EdDSA in a verifier created now: `'sodium'` (sodium-native loaded) or `'node'` (node:crypto). */
export { ed25519Backend } from './ed25519.js'
export type { Ed25519BackendName } from './ed25519.js'
export type { TokenErrorCode } from './errors.js'
