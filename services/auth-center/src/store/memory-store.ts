import type { Store } from './store.js'
import { composeStore } from './compose.js'
import { DEFAULT_DENY_TTL_MS, assertDenyTtl } from './denylist.js'
import { createSweeper } from './memory/sweep.js'
import { createMemoryUsers } from './users/memory.js'
import { createMemorySessions } from './sessions/memory.js'
import { createMemoryCodes } from './codes/memory.js'
import { createMemoryOAuth } from './oauth/memory.js'
import { createMemoryClients } from './clients/memory.js'
import { createMemoryEvents } from './events/memory.js'

export interface MemoryStoreOptions {
  /** How often expired codes, counters and sessions are dropped (default 60 s). */
  sweepIntervalMs?: number
  /**
   * How long a denylist entry lives after its revocation: the longest access-token
   * lifetime of any client + clock tolerance (default 2 min + 5 s). The app passes it.
   */
  denyTtlMs?: number
  /** How many revocations the feed log keeps for resuming readers (default 10,000). */
  feedLogMax?: number
}

/**
 * The embedded store: every concern's memory driver (users/memory.ts, sessions/memory.ts,
 * …) in this process, lost on restart (the app warns). Each driver decides and changes
 * state without an `await` in between, so each method is atomic for free. One sweep
 * timer drops what has expired from all of them.
 *
 * @example
 * const store = createMemoryStore()
 * const { user } = await store.getOrCreateUserByMobile(mobile, candidate)
 */
export function createMemoryStore (opts: MemoryStoreOptions = {}): Store {
  const denyTtlMs = opts.denyTtlMs ?? DEFAULT_DENY_TTL_MS
  assertDenyTtl(denyTtlMs, 'createMemoryStore')
  const sweeper = createSweeper(opts.sweepIntervalMs ?? 60_000, 'createMemoryStore')
  const sessions = createMemorySessions({ denyTtlMs, sweeper, ...(opts.feedLogMax !== undefined ? { feedLogMax: opts.feedLogMax } : {}) })
  return composeStore('memory', {
    users: createMemoryUsers(),
    sessions,
    codes: createMemoryCodes({ sweeper }),
    oauth: createMemoryOAuth({ sweeper }),
    clients: createMemoryClients(),
    events: createMemoryEvents()
  }, [], [
    async () => { sweeper.stop() },
    async () => { await sessions[Symbol.asyncDispose]() }
  ])
}
