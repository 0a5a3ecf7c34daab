/**
 * One timer that drops expired entries from every memory driver. Reads already ignore
 * what has expired; the sweep only gives the memory back. unref'd: a store must never be
 * what keeps the process (or a test run) alive.
 */
export interface Sweeper {
  /** Adds a part's sweep, run on every tick with `Date.now()`. */
  add (sweep: (now: number) => void): void
  stop (): void
}

export function createSweeper (intervalMs: number, who: string): Sweeper {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new TypeError(`${who}: sweepIntervalMs must be a positive number`)
  const sweeps: Array<(now: number) => void> = []
  const timer = setInterval(() => {
    const now = Date.now()
    for (const sweep of sweeps) sweep(now)
  }, intervalMs)
  timer.unref()
  return {
    add (sweep) { sweeps.push(sweep) },
    stop () { clearInterval(timer) }
  }
}
