import type { ClientStore, CodeStore, EventStore, OAuthStore, SessionStore, Store, StoreDriver, UserStore } from './store.js'

/** One driver per concern: what `composeStore` puts together. */
export interface StoreParts {
  users: UserStore
  sessions: SessionStore
  codes: CodeStore
  oauth: OAuthStore
  clients: ClientStore
  events: EventStore
}

/** A backend the parts share (a Redis client, a PostgreSQL pool): pinged and closed once, whatever number of parts use it. */
export interface StoreBackend {
  ping (): Promise<void>
  close (): Promise<void>
}

/**
 * The `Store` the routes use, from one driver per concern. Each method is the part's
 * own, bound to it, so a concern can move to another backend without the routes
 * knowing. `ping` asks every backend; `close` closes the parts' own resources (a
 * subscriber connection, a sweep timer) and then the backends.
 */
export function composeStore (driver: StoreDriver, parts: StoreParts, backends: StoreBackend[], closeParts: Array<() => Promise<void>> = []): Store {
  const out: Record<string, unknown> = {}
  for (const part of Object.values(parts) as object[]) {
    for (const name of methodNames(part)) {
      if (name in out) throw new TypeError(`composeStore: two parts define ${name}`)
      const fn = (part as Record<string, unknown>)[name] as (...args: unknown[]) => unknown
      out[name] = fn.bind(part)
    }
  }
  const store = out as unknown as Store
  Object.defineProperty(store, 'driver', { value: driver, enumerable: true })
  store.ping = async () => { await Promise.all(backends.map(async (b) => { await b.ping() })) }
  store.close = async () => {
    for (const close of closeParts) await close()
    for (const b of backends) await b.close()
  }
  return store
}

/** Own and prototype methods, so parts made by closures and by classes both work. */
function methodNames (part: object): string[] {
  const names = new Set<string>()
  for (let o: object | null = part; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name !== 'constructor' && typeof (part as Record<string, unknown>)[name] === 'function') names.add(name)
    }
  }
  return [...names]
}
