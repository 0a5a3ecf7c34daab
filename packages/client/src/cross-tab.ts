/**
 * One refresh at a time across the tabs of an origin. The Web Locks API is the
 * real lock; without it (old Safari) tabs announce on a BroadcastChannel that
 * they are refreshing and the others wait for "done". Two tabs that announce at
 * the same instant both refresh, which the auth center's grace window answers
 * with the same successor, so the session survives either way.
 */
export interface CrossTab {
  /** Runs `fn` holding the lock `name + suffix`; locks are not reentrant, so nested work takes another suffix. */
  lock<T> (fn: () => Promise<T>, suffix?: string): Promise<T>
  post (message: TabMessage): void
  close (): void
}

export type TabMessage =
  | { type: 'session' }
  | { type: 'logout', reason: string, sessionId: string | undefined }
  | { type: 'busy' }
  | { type: 'free' }

const FALLBACK_WAIT_MS = 5000

export function crossTab (name: string, onMessage: (m: TabMessage) => void): CrossTab {
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(name) : undefined
  const locks = (globalThis.navigator as Navigator | undefined)?.locks
  let othersBusy = false
  let freed: (() => void) | undefined
  if (channel !== undefined) {
    channel.onmessage = (e: MessageEvent<TabMessage>) => {
      const m = e.data
      if (m.type === 'busy') othersBusy = true
      else if (m.type === 'free') { othersBusy = false; freed?.() } else onMessage(m)
    }
  }
  const post = (m: TabMessage): void => { channel?.postMessage(m) }
  return {
    post,
    close: () => { channel?.close() },
    lock: async <T>(fn: () => Promise<T>, suffix = ''): Promise<T> => {
      if (locks !== undefined) return await locks.request(name + suffix, async () => await fn()) as T
      // The announcement protocol covers renewals only; the rest (making the DPoP key once) is rare enough to race.
      if (suffix !== '') return await fn()
      if (othersBusy) {
        await new Promise<void>((resolve) => {
          freed = resolve
          setTimeout(resolve, FALLBACK_WAIT_MS)
        })
        freed = undefined
      }
      post({ type: 'busy' })
      try { return await fn() } finally { post({ type: 'free' }) }
    }
  }
}
