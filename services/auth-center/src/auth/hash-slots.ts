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
 * A semaphore with a bounded queue for password hashing. scrypt's memory is the DoS
 * lever: without a bound, N concurrent logins cost N times the hash's memory and every
 * libuv thread. With it, memory is at most `concurrency` hashes whatever the load, and
 * what does not fit is refused quickly with 503 + Retry-After instead of queued for minutes.
 */
export function createHashSlots (opts: HashSlotsOptions): HashSlots {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new TypeError('createHashSlots: concurrency must be an integer >= 1')
  if (!Number.isInteger(opts.queue) || opts.queue < 0) throw new TypeError('createHashSlots: queue must be an integer >= 0')
  const maxWaitMs = opts.maxWaitMs ?? MAX_WAIT_MS
  let running = 0
  const lanes: Record<Lane, Waiter[]> = { known: [], other: [] }

  const busy = (): RetryAfter => new RetryAfter(RETRY_AFTER_S, new PasswordCheckBusyError())

  function acquire (lane: Lane): Promise<void> {
    if (running < opts.concurrency) {
      running++
      return Promise.resolve()
    }
    const waiters = lanes[lane]
    if (waiters.length >= opts.queue) return Promise.reject(busy())
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        // The slot passes straight from the releasing check to this one: `running` stays as it is.
        start: () => { clearTimeout(waiter.timer); resolve() },
        timer: setTimeout(() => {
          const i = waiters.indexOf(waiter)
          if (i !== -1) waiters.splice(i, 1)
          reject(busy())
        }, maxWaitMs)
      }
      waiters.push(waiter)
    })
  }

  function release (): void {
    const next = lanes.known.shift() ?? lanes.other.shift()
    if (next !== undefined) next.start()
    else running--
  }

  return {
    async run (work, lane = 'other') {
      await acquire(lane)
      try {
        return await work()
      } finally {
        release()
      }
    },
    get running () { return running },
    get waiting () { return lanes.known.length + lanes.other.length }
  }
}
