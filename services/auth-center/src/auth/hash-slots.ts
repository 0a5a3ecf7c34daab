import { PasswordCheckBusyError } from '../errors.js'
import { RetryAfter } from './rate-limit.js'

/**
 * How long a password check may wait for a slot before it is refused. With the queue
 * bound it is what keeps a refusal under 2 s on a loaded machine: the 503 answers
 * after at most this, never after the queue has drained.
 */
export const MAX_WAIT_MS = 1000
/** The client may retry after this much: by then the queue has moved on. */
const RETRY_AFTER_S = 1

export interface HashSlotsOptions {
  /** Hashes computed at once (each holds a libuv thread and its scrypt memory). */
  concurrency: number
  /** Checks waiting for a slot; one more is refused at once. */
  queue: number
  maxWaitMs?: number
}

/**
 * `known`: a check from a client address that has logged in successfully before. It
 * waits in its own queue (as long as the other), served first, so a flood from fresh
 * addresses cannot keep returning users out. Which lane a check takes depends on the
 * address only, never on the account: a 503 still tells nothing about the account.
 */
export type Lane = 'known' | 'other'

export interface HashSlots {
  /** Runs `work` in a slot; throws RetryAfter(PASSWORD_CHECK_BUSY) when its lane's queue is full or the wait too long. */
  run<T> (work: () => Promise<T>, lane?: Lane): Promise<T>
  readonly running: number
  readonly waiting: number
}

interface Waiter { start: () => void, timer: NodeJS.Timeout }

/**
 * A semaphore with bounded queues for password hashing. scrypt's memory is the DoS
 * lever: without a bound, N concurrent logins cost N times the hash's memory and every
 * libuv thread. With it, memory is at most `concurrency` hashes whatever the load, and
 * what does not fit is refused quickly with 503 + Retry-After instead of queued for minutes.
 * With two slots or more, one is kept for the known lane: under a flood from fresh
 * addresses a returning user's check starts at once instead of waiting for a hash to end
 * (and timing out, on a slow machine, before one does).
 */
export function createHashSlots (opts: HashSlotsOptions): HashSlots {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new TypeError('createHashSlots: concurrency must be an integer >= 1')
  if (!Number.isInteger(opts.queue) || opts.queue < 0) throw new TypeError('createHashSlots: queue must be an integer >= 0')
  const maxWaitMs = opts.maxWaitMs ?? MAX_WAIT_MS
  const otherMax = opts.concurrency >= 2 ? opts.concurrency - 1 : opts.concurrency
  const active: Record<Lane, number> = { known: 0, other: 0 }
  const lanes: Record<Lane, Waiter[]> = { known: [], other: [] }

  const busy = (): RetryAfter => new RetryAfter(RETRY_AFTER_S, new PasswordCheckBusyError())
  const canStart = (lane: Lane): boolean =>
    active.known + active.other < opts.concurrency && (lane === 'known' || active.other < otherMax)

  function acquire (lane: Lane): Promise<void> {
    if (canStart(lane)) {
      active[lane]++
      return Promise.resolve()
    }
    const waiters = lanes[lane]
    if (waiters.length >= opts.queue) return Promise.reject(busy())
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        // The slot is taken here, synchronously, so no newcomer can slip in before this waiter runs.
        start: () => { clearTimeout(waiter.timer); active[lane]++; resolve() },
        timer: setTimeout(() => {
          const i = waiters.indexOf(waiter)
          if (i !== -1) waiters.splice(i, 1)
          reject(busy())
        }, maxWaitMs)
      }
      waiters.push(waiter)
    })
  }

  function release (lane: Lane): void {
    active[lane]--
    for (;;) {
      if (lanes.known.length > 0 && canStart('known')) lanes.known.shift()!.start()
      else if (lanes.other.length > 0 && canStart('other')) lanes.other.shift()!.start()
      else break
    }
  }

  return {
    async run (work, lane = 'other') {
      await acquire(lane)
      try {
        return await work()
      } finally {
        release(lane)
      }
    },
    get running () { return active.known + active.other },
    get waiting () { return lanes.known.length + lanes.other.length }
  }
}
