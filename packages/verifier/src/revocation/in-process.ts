import { STEP_TIMEOUT_MS, retryDelay, withTimeout } from './entries.js'
import type { InProcessFeed } from './options.js'
import type { RevocationSink, RevocationSource } from './source.js'

/**
 * An in-process feed (`{load, subscribe}`, e.g. the auth center's `app.revocationFeed`)
 * as a transport: subscribe first, then load, and re-apply what arrived meanwhile.
 */
export function inProcessSource (feed: InProcessFeed): RevocationSource {
  let unsubscribe: (() => void) | undefined
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  return {
    start (sink: RevocationSink) {
      let attempt = 0
      const load = (): void => {
        const buffer: string[] = []
        let loading = true
        unsubscribe ??= feed.subscribe((message) => {
          if (loading) buffer.push(message)
          sink.add(message)
        })
        const run = async (): Promise<void> => {
          const { epoch, entries } = await withTimeout(Promise.resolve(feed.load()), STEP_TIMEOUT_MS, 'source.load()')
          if (stopped || sink.closed) return
          if (typeof epoch !== 'string' || !Array.isArray(entries)) throw new Error('source.load() must return { epoch: string, entries: string[] }')
          loading = false
          sink.replace(epoch, [...entries, ...buffer])
        }
        run().catch((err: unknown) => {
          loading = false
          if (stopped || sink.closed) return
          attempt++
          const delay = retryDelay(attempt)
          sink.failed(err, attempt, delay)
          timer = setTimeout(load, delay)
          timer.unref()
        })
      }
      load()
    },
    close () {
      stopped = true
      clearTimeout(timer)
      const u = unsubscribe
      unsubscribe = undefined
      try { u?.() } catch {}
    }
  }
}
