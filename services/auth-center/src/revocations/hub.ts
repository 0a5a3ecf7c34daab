import type { FastifyBaseLogger } from 'fastify'
import { comparePositions, parseCursor } from '../store/denylist.js'
import type { Store } from '../store/store.js'

/**
 * One per auth-center process: follows the store's revocations (with their cursors,
 * whatever the driver) and fans them out to the connected feed streams (routes.ts), so
 * 1,000 verifiers cost one store subscription, not 1,000. A heartbeat tick re-reads
 * the store epoch (and recreates it after a store reset): a changed epoch resets every
 * stream; a tick that cannot reach the store sends no heartbeat, so verifiers see this
 * replica as dead rather than quiet.
 */
export interface FeedStream {
  /** Writes one SSE chunk; false when the client is gone or too slow (the stream is then ended). */
  write (chunk: string): boolean
  end (): void
}

interface Follower {
  stream: FeedStream
  /** Last position written (`<ms>-<seq>`); later entries only. */
  last: string | undefined
  /** Live entries that arrived while the backlog was read. */
  pending: Array<[message: string, cursor: string]> | undefined
}

/** Wire format of docs/revocation-protocol.md. */
export const sse = {
  event: (event: string, data: string, id?: string): string => `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${data}\n\n`
}

/** Entries read per backlog page. */
const BACKLOG_PAGE = 1000

export class RevocationHub {
  readonly #store: Store
  readonly #log: FastifyBaseLogger
  readonly #followers = new Set<Follower>()
  readonly heartbeatMs: number
  #epoch: string | undefined
  #timer: NodeJS.Timeout | undefined
  #unsubscribe: (() => void) | undefined
  #storeUp = true
  readonly #onLag: ((ms: number) => void) | undefined

  /** `onLag(ms)`: per revocation, from its write in the feed log (the cursor's time) to its fan-out here. */
  constructor (store: Store, log: FastifyBaseLogger, heartbeatMs: number, onLag?: (ms: number) => void) {
    this.#store = store
    this.#log = log
    this.heartbeatMs = heartbeatMs
    this.#onLag = onLag
  }

  /** The epoch streams are told in `hello` and heartbeats. */
  get epoch (): string | undefined { return this.#epoch }

  get connections (): number { return this.#followers.size }

  async start (now: number): Promise<void> {
    this.#unsubscribe = this.#store.subscribeRevocations((message, cursor) => this.#deliver(message, cursor))
    this.#epoch = await this.#store.ensureEpoch(now)
    this.#timer = setInterval(() => { void this.#tick() }, this.heartbeatMs)
    this.#timer.unref()
  }

  /**
   * Attaches a stream that resumes after `cursor` (undefined: live entries only). Answers
   * 'reset' (and attaches nothing) when the store's log cannot resume from it.
   */
  async attach (stream: FeedStream, cursor: string | undefined): Promise<'ok' | 'reset'> {
    const epoch = this.#epoch ?? await this.#store.ensureEpoch(Date.now())
    const follower: Follower = { stream, last: undefined, pending: [] }
    this.#followers.add(follower)
    try {
      if (cursor !== undefined) {
        const parsed = parseCursor(cursor)
        if (parsed === undefined) return this.#detach(follower, 'reset')
        follower.last = parsed.position
        let after = cursor
        const backlog: Array<[string, string]> = []
        for (;;) {
          const page = await this.#store.revocationsAfter(after, BACKLOG_PAGE)
          if (page === null) return this.#detach(follower, 'reset')
          for (const e of page) backlog.push([e.message, e.cursor])
          if (page.length < BACKLOG_PAGE) break
          after = page[page.length - 1]!.cursor
        }
        stream.write(hello(epoch, this.heartbeatMs))
        for (const [message, c] of backlog) this.#write(follower, message, c)
      } else {
        stream.write(hello(epoch, this.heartbeatMs))
      }
      const pending = follower.pending ?? []
      follower.pending = undefined
      for (const [message, c] of pending) this.#write(follower, message, c)
      return 'ok'
    } catch (err) {
      this.#detach(follower, 'ok')
      throw err
    }
  }

  detach (stream: FeedStream): void {
    for (const f of this.#followers) if (f.stream === stream) this.#followers.delete(f)
  }

  /** Ends every stream with `end` (reason `shutting_down`): readers reconnect at once, to another replica. */
  close (): void {
    clearInterval(this.#timer)
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    const bye = sse.event('end', JSON.stringify({ reason: 'shutting_down' }))
    for (const f of this.#followers) {
      f.stream.write(bye)
      f.stream.end()
    }
    this.#followers.clear()
  }

  #detach (follower: Follower, verdict: 'ok' | 'reset'): 'ok' | 'reset' {
    this.#followers.delete(follower)
    return verdict
  }

  #deliver (message: string, cursor: string): void {
    if (this.#onLag !== undefined) {
      const written = parseCursor(cursor)?.ms
      if (written !== undefined) this.#onLag(Date.now() - written)
    }
    for (const f of this.#followers) {
      if (f.pending !== undefined) f.pending.push([message, cursor])
      else this.#write(f, message, cursor)
    }
  }

  #write (f: Follower, message: string, cursor: string): void {
    const position = parseCursor(cursor)?.position
    if (position === undefined) return
    // The backlog and the live subscription overlap: each position is written once, in order.
    if (f.last !== undefined && comparePositions(position, f.last) <= 0) return
    f.last = position
    if (!f.stream.write(sse.event('revocation', message, cursor))) this.#drop(f)
  }

  #drop (f: Follower): void {
    this.#followers.delete(f)
    f.stream.end()
  }

  async #tick (): Promise<void> {
    let epoch: string
    try {
      epoch = await this.#store.ensureEpoch(Date.now())
    } catch (err) {
      if (this.#storeUp) this.#log.warn({ err }, 'revocation feed: the store does not answer; heartbeats stop until it does')
      this.#storeUp = false
      return
    }
    if (!this.#storeUp) this.#log.info('revocation feed: the store answers again')
    this.#storeUp = true
    if (this.#epoch !== undefined && epoch !== this.#epoch) {
      this.#log.warn('revocation feed: the store epoch changed (store reset): every stream is told to reload')
      this.#epoch = epoch
      for (const f of [...this.#followers]) {
        f.stream.write(sse.event('reset', JSON.stringify({ reason: 'epoch_changed' })))
        this.#drop(f)
      }
      return
    }
    this.#epoch = epoch
    const beat = sse.event('heartbeat', JSON.stringify({ epoch }))
    for (const f of [...this.#followers]) {
      if (f.pending === undefined && !f.stream.write(beat)) this.#drop(f)
    }
  }
}

function hello (epoch: string, heartbeatMs: number): string {
  return `retry: 1000\n${sse.event('hello', JSON.stringify({ epoch, heartbeat_ms: heartbeatMs }))}`
}
