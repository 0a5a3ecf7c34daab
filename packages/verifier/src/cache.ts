import type { Auth } from './verify.js'

/** One verified token: the answer, until when it may be served, and the key set it was verified with. */
interface Entry {
  readonly token: string
  readonly auth: Auth
  /** The token's `exp`, in seconds: the entry is never served at or after it. */
  readonly exp: number
  /** The key set the signature was checked with: after a JWKS (re)fetch the entry is verified again. */
  readonly keys: object
}

/**
 * Characters at the end of the token (the end of its signature) that index
 * the map. Hashing a fresh 700-character string costs V8 about 2 µs, 32
 * characters almost nothing. The index only finds the candidate entry: it is
 * served only when its whole token string is equal to the one presented.
 */
const INDEX_CHARS = 32

/**
 * The verified-token cache: an LRU bounded to `max` entries. Entries are only
 * ever created after a full verification (signature, header and claims); a
 * hit requires the whole token string to be equal, the same key set, and
 * `exp` not reached. Revocation, binding and scope are not its business: the
 * verifier checks them on every call, hit or not.
 */
export class TokenCache {
  readonly max: number
  readonly #map = new Map<string, Entry>()
  #newest: Entry | undefined

  constructor (max: number) {
    this.max = max
  }

  get size (): number {
    return this.#map.size
  }

  /** The cached answer for exactly this token, verified with `keys`, before `exp`; else `undefined`. */
  get (token: string, keys: object | undefined, nowSeconds: number): Auth | undefined {
    const index = token.slice(-INDEX_CHARS)
    const entry = this.#map.get(index)
    // Another token with the same last characters (e.g. the same signature
    // under another payload) is not this one: full verification.
    if (entry === undefined || entry.token !== token) return undefined
    if (entry.keys !== keys || entry.exp <= nowSeconds) {
      this.#map.delete(index)
      if (this.#newest === entry) this.#newest = undefined
      return undefined
    }
    if (entry !== this.#newest) {
      // Least recently used first: move the entry to the end.
      this.#map.delete(index)
      this.#map.set(index, entry)
      this.#newest = entry
    }
    return entry.auth
  }

  /** Remembers a fully verified token. */
  set (token: string, auth: Auth, exp: number, keys: object): void {
    const index = token.slice(-INDEX_CHARS)
    const entry: Entry = { token, auth, exp, keys }
    const map = this.#map
    // Set replaces an entry under the same index in place (rare: see get).
    map.set(index, entry)
    this.#newest = entry
    if (map.size > this.max) map.delete(map.keys().next().value!)
  }

  clear (): void {
    this.#map.clear()
    this.#newest = undefined
  }
}
