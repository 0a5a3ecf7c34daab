import type { ClientRegistry } from '../clients/registry.js'
import { DENY_CLOCK_TOLERANCE_MS } from '../store/denylist.js'
import type { Denylist, RevocationListener, Store } from '../store/store.js'

/**
 * The revocation feed of docs/revocation-protocol.md as an in-process object, for a
 * verifier that runs in the same process as the auth center (memory store, no Redis):
 * `load()` gives the epoch and every entry, `subscribe(listener)` delivers each new
 * revocation as `<field>=<value>`. Subscribe first, then load, as the protocol says.
 *
 * @example
 * const app = await build(config)
 * const verifier = createVerifier({ ..., revocation: { source: app.revocationFeed } })
 */
export interface RevocationFeed {
  load (): Promise<Denylist>
  subscribe (listener: RevocationListener): () => void
}

export function createRevocationFeed (store: Store): RevocationFeed {
  return {
    load: async () => await store.denylist(),
    subscribe: (listener) => store.subscribeRevocations(listener)
  }
}

/**
 * How long a denylist entry must live after its revocation: until no access token it
 * covers can still be alive, i.e. the longest access-token lifetime of any client,
 * plus clock tolerance.
 */
export function denyTtlMs (clients: ClientRegistry): number {
  const longest = Math.max(0, ...clients.all().map((c) => c.policy.accessTtlMs))
  return longest + DENY_CLOCK_TOLERANCE_MS
}

/** How often the app drops expired denylist entries. */
export const DENYLIST_PRUNE_INTERVAL_MS = 30_000
