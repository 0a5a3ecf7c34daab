/**
 * Where the SDK keeps the session (tokens) and the DPoP key. Values are
 * structured-cloneable (a `CryptoKeyPair` included), so IndexedDB can hold them.
 */
export interface TokenStorage {
  get<T> (key: string): Promise<T | undefined>
  set (key: string, value: unknown): Promise<void>
  delete (key: string): Promise<void>
  /**
   * True when other tabs of the origin see the same values (IndexedDB): the SDK
   * then coordinates refreshes across tabs. False for per-page storage.
   */
  readonly shared: boolean
}

/**
 * The default: values live in this page (or process) only and are gone on
 * reload. Nothing touches `localStorage`.
 *
 * @example
 * ```ts
 * const auth = createClient({ issuer, storage: memoryStorage() })
 * ```
 */
export function memoryStorage (): TokenStorage {
  const map = new Map<string, unknown>()
  return {
    shared: false,
    get: async <T>(key: string) => map.get(key) as T | undefined,
    set: async (key, value) => { map.set(key, value) },
    delete: async (key) => { map.delete(key) }
  }
}
