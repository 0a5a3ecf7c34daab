import type { TokenStorage } from './storage.js'

/**
 * A browser store in IndexedDB, shared by the tabs of one origin: the refresh
 * token stays out of `localStorage` (which any script and many extensions read
 * as plain text), and a non-extractable DPoP key survives reloads as a
 * `CryptoKey` that cannot be exported.
 *
 * @example
 * ```ts
 * const auth = createClient({ issuer: location.origin, storage: indexedDBStorage(), dpop: true })
 * ```
 */
export function indexedDBStorage (name = 'authcenter'): TokenStorage {
  if (typeof indexedDB === 'undefined') throw new TypeError('@authcenter/client: indexedDBStorage needs IndexedDB (a browser)')
  let db: Promise<IDBDatabase> | undefined
  const open = (): Promise<IDBDatabase> => db ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1)
    req.onupgradeneeded = () => { req.result.createObjectStore('kv') }
    req.onsuccess = () => { resolve(req.result) }
    req.onerror = () => { db = undefined; reject(req.error) }
  })
  const run = async <T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest): Promise<T> => {
    const tx = (await open()).transaction('kv', mode)
    const req = op(tx.objectStore('kv'))
    return await new Promise<T>((resolve, reject) => {
      tx.oncomplete = () => { resolve(req.result as T) }
      tx.onerror = tx.onabort = () => { reject(tx.error ?? req.error) }
    })
  }
  return {
    shared: true,
    get: async <T>(key: string) => await run<T | undefined>('readonly', (s) => s.get(key)),
    set: async (key, value) => { await run('readwrite', (s) => s.put(value, key)) },
    delete: async (key) => { await run('readwrite', (s) => s.delete(key)) }
  }
}
