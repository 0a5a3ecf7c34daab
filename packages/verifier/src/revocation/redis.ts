// The Redis transport (docs/revocation-protocol.md, "Redis variant"): for a verifier
// that follows the auth center's Redis directly, as a user an ACL restricts to the
// feed's keys and channel (read-only: this transport never writes). ioredis is
// imported lazily, only when a Redis URL is given, so the root export stays free of it.
import { STEP_TIMEOUT_MS, errorInfo, retryDelay, withTimeout } from './entries.js'
import type { RedisLike, RedisSubscriberLike, ResolvedRevocationOptions } from './options.js'
import type { RevocationSink, RevocationSource } from './source.js'

const HSCAN_COUNT = 1000

export function redisSource (opts: ResolvedRevocationOptions): RevocationSource {
  const denyKey = `${opts.prefix}deny`
  const epochKey = `${opts.prefix}epoch`
  const channel = `${opts.prefix}revocations`
  let sink!: RevocationSink
  let closed = false
  let cmd: RedisLike | undefined
  let ownCmd: { disconnect: () => void } | undefined
  let sub: RedisSubscriberLike | undefined
  let epochTimer: NodeJS.Timeout | undefined
  let retryTimer: NodeJS.Timeout | undefined
  let checking = false
  let loggedConnError = false
  // A reload commits only if `generation` is still the one it started with (a disconnect
  // or a newer reload bumps it); messages meanwhile are applied at once and kept in
  // `buffer` to be applied again after the swap.
  let generation = 0
  let reloading = false
  let buffer: string[] | undefined
  let failures = 0

  function onMessage (ch: unknown, message: unknown): void {
    if (closed || ch !== channel || typeof message !== 'string') return
    buffer?.push(message)
    sink.add(message)
  }

  function onDown (reason: string): void {
    if (closed) return
    generation++ // an in-flight reload may have missed messages: discard it
    reloading = false
    buffer = undefined
    clearTimeout(retryTimer)
    sink.stale(reason)
  }

  /** SUBSCRIBE (buffering), the epoch, HSCAN the whole hash, swap, apply the buffer. */
  function reload (): void {
    const c = cmd!
    const s = sub!
    const mine = ++generation
    clearTimeout(retryTimer)
    reloading = true
    buffer = []
    const current = (): boolean => mine === generation && !closed
    const run = async (): Promise<void> => {
      // Subscribed (confirmed by Redis) before anything is read, so no revocation
      // published after the read can be missed.
      await withTimeout(s.subscribe(channel), STEP_TIMEOUT_MS, 'SUBSCRIBE')
      if (!current()) return
      const epoch = await withTimeout(c.get(epochKey), STEP_TIMEOUT_MS, 'reading the epoch')
      // The auth center recreates a missing epoch within a heartbeat; this user may not write it.
      if (epoch === null) throw new Error('the store epoch is missing (store reset?); waiting for the auth center to recreate it')
      const entries: string[] = []
      let cursor = '0'
      do {
        if (!current()) return
        const [next, elements] = await withTimeout(c.hscan(denyKey, cursor, 'COUNT', HSCAN_COUNT), STEP_TIMEOUT_MS, 'HSCAN')
        for (let i = 0; i + 1 < elements.length; i += 2) entries.push(`${elements[i]!}=${elements[i + 1]!}`)
        cursor = next
      } while (cursor !== '0')
      if (!current()) return
      const late = buffer ?? []
      buffer = undefined
      reloading = false
      failures = 0
      sink.replace(epoch, [...entries, ...late])
    }
    run().catch((err: unknown) => {
      if (!current()) return
      reloading = false
      buffer = undefined
      sink.stale('loading the denylist failed')
      failures++
      const delay = retryDelay(failures)
      sink.failed(err, failures, delay)
      retryTimer = setTimeout(() => { if (current() && s.status === 'ready') reload() }, delay)
      retryTimer.unref()
    })
  }

  /**
   * Periodic: the epoch key is still the one loaded (a FLUSHALL that the connections
   * survived would otherwise go unnoticed), and the subscriber still answers (a
   * silently dead connection would otherwise look subscribed).
   */
  async function checkEpoch (): Promise<void> {
    const s = sub
    const c = cmd
    if (closed || checking || reloading || s === undefined || c === undefined || s.status !== 'ready') return
    checking = true
    const mine = generation
    const timeout = Math.min(opts.epochCheckInterval, STEP_TIMEOUT_MS)
    try {
      const [pong, epoch] = await Promise.allSettled([
        withTimeout(s.ping(), timeout, 'PING'),
        withTimeout(c.get(epochKey), timeout, 'GET epoch')
      ])
      if (mine !== generation || closed) return
      if (pong.status === 'rejected') {
        sink.stale('the Redis subscriber connection does not answer')
        generation++
        s.disconnect(true) // reconnects; 'ready' reloads
        return
      }
      if (epoch.status === 'fulfilled' && epoch.value !== sink.epoch) {
        sink.stale(epoch.value === null ? 'the store epoch is missing (store reset)' : 'the store epoch changed')
        reload()
      }
    } finally {
      checking = false
    }
  }

  async function start (): Promise<void> {
    const { redis } = opts
    if (typeof redis === 'string') {
      let Redis: new (url: string, options: Record<string, unknown>) => RedisLike & { disconnect: () => void, on: (event: string, listener: (...args: any[]) => void) => unknown }
      try {
        const mod = await import('ioredis') as unknown as { Redis?: unknown, default?: { Redis?: unknown } }
        Redis = (mod.Redis ?? mod.default?.Redis ?? mod.default) as typeof Redis
        if (typeof Redis !== 'function') throw new Error('ioredis has no Redis export')
      } catch (err) {
        sink.fatal(new Error('revocation.redis is a URL but ioredis cannot be loaded: install ioredis (an optional peer dependency of @authcenter/verifier)', { cause: err }))
        return
      }
      if (closed) return
      const own = new Redis(redis, {
        connectionName: 'authcenter-verifier',
        maxRetriesPerRequest: 1,
        retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000)
      })
      own.on('error', () => {}) // its state is followed through the subscriber connection
      ownCmd = own
      cmd = own
    } else {
      cmd = redis!
    }
    const s = cmd.duplicate({ lazyConnect: true, autoResubscribe: false, enableOfflineQueue: true })
    sub = s
    s.on('message', onMessage)
    s.on('ready', () => { if (!closed) reload() })
    s.on('close', () => onDown('the Redis subscriber connection closed'))
    s.on('end', () => {
      onDown('the Redis subscriber connection ended')
      if (closed) return
      // The client gave up reconnecting (its retryStrategy); keep trying, slowly.
      const timer = setTimeout(() => { if (!closed) s.connect().catch(() => {}) }, 1000)
      timer.unref()
    })
    s.on('error', (err: unknown) => {
      if (closed) return
      if (sink.closed === false && !loggedConnError) {
        loggedConnError = true
        sink.log.warn(errorInfo(err), 'revocation: Redis subscriber connection error (further ones are not logged until it recovers)')
      }
      if (s.status !== 'ready') onDown('Redis subscriber connection error')
    })
    s.on('ready', () => { loggedConnError = false })
    epochTimer = setInterval(() => { void checkEpoch() }, opts.epochCheckInterval)
    epochTimer.unref()
    // Errors surface as 'error'/'close' events and ioredis keeps reconnecting.
    s.connect().catch(() => {})
  }

  return {
    start (s) {
      sink = s
      void start()
    },
    close () {
      closed = true
      generation++
      clearInterval(epochTimer)
      clearTimeout(retryTimer)
      // disconnect(), not quit(): quit() would wait for a Redis that may be down.
      sub?.disconnect()
      ownCmd?.disconnect()
    }
  }
}
