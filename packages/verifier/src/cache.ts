import type { Auth } from './verify.js'

/** One verified token: the answer, until when it may be served, the key set it was verified with, its place in the LRU order. */
interface Entry {
  readonly index: number
  readonly token: string
  readonly auth: Auth
  /** The token's `exp`, in seconds: the entry is never served at or after it. */
  readonly exp: number
  /** The key set the signature was checked with: after a JWKS (re)fetch the entry is verified again. */
  readonly keys: object
  newer: Entry | undefined
  older: Entry | undefined
}

/**
 * The map index of a token: a 30-bit number folded from the last characters
 * of its signature, read without allocating. Hashing a fresh 700-character
 * string costs V8 about 2 µs and even a 32-character slice allocates; a small
 * integer key costs almost nothing. The index only finds the candidate entry:
 * it is served only when its whole token string is equal to the one presented,
 * so two tokens with the same index merely take turns in the cache.
 */
function indexOf (token: string): number {
  const end = token.length - 1 // the last character carries spare bits
  let h = 0
  for (let i = Math.max(0, end - 8); i < end; i++) h = (Math.imul(h, 31) + token.charCodeAt(i)) | 0
  return h & 0x3fffffff
}

/**
 * The verified-token cache: an LRU bounded to `max` entries (a map from index
 * to entry plus a doubly linked list, so a hit, an insertion and an eviction
 * are each O(1): evicting through `map.keys().next()` instead walks the holes
 * that deletions leave at the front of a V8 Map, several µs per insertion once
 * the cache is full). Entries are only ever created after a full verification
 * (signature, header and claims); a hit requires the whole token string to be
 * equal, the same key set, and `exp` not reached. Revocation, binding and
 * scope are not its business: the verifier checks them on every call, hit or not.
 */
export class TokenCache {
  readonly max: number
  readonly #map = new Map<number, Entry>()
  #newest: Entry | undefined
  #oldest: Entry | undefined

  constructor (max: number) {
    this.max = max
  }

  get size (): number {
    return this.#map.size
  }

  /** The cached answer for exactly this token, verified with `keys`, before `exp`; else `undefined`. */
  get (token: string, keys: object | undefined, nowSeconds: number): Auth | undefined {
    const entry = this.#map.get(indexOf(token))
    // Another token with the same index (e.g. the same signature under another
    // payload) is not this one: full verification.
    if (entry === undefined || entry.token !== token) return undefined
    if (entry.keys !== keys || entry.exp <= nowSeconds) {
      this.#remove(entry)
      return undefined
    }
    if (entry !== this.#newest) {
      this.#unlink(entry)
      this.#link(entry)
    }
    return entry.auth
  }

  /** Remembers a fully verified token (replacing a token with the same index). */
  set (token: string, auth: Auth, exp: number, keys: object): void {
    const index = indexOf(token)
    const map = this.#map
    const previous = map.get(index)
    if (previous !== undefined) this.#remove(previous)
    const entry: Entry = { index, token, auth, exp, keys, newer: undefined, older: undefined }
    map.set(index, entry)
    this.#link(entry)
    if (map.size > this.max) this.#remove(this.#oldest!)
  }

  clear (): void {
    this.#map.clear()
    this.#newest = undefined
    this.#oldest = undefined
  }

  #remove (entry: Entry): void {
    this.#map.delete(entry.index)
    this.#unlink(entry)
  }

  /** Makes `entry` the newest. */
  #link (entry: Entry): void {
    entry.older = this.#newest
    entry.newer = undefined
    if (this.#newest !== undefined) this.#newest.newer = entry
    else this.#oldest = entry
    this.#newest = entry
  }

  #unlink (entry: Entry): void {
    const { newer, older } = entry
    if (newer !== undefined) newer.older = older
    else this.#newest = older
    if (older !== undefined) older.newer = newer
    else this.#oldest = newer
    entry.newer = undefined
    entry.older = undefined
  }
}
