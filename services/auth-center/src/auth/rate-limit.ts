import type { Deps } from '../context.js'
import { RateLimitedError } from '../errors.js'

/** A refusal that tells the client how long to wait (sent as `Retry-After`). */
export class RetryAfter extends Error {
  constructor (readonly seconds: number, override readonly cause: Error) { super(cause.message) }
  /** The refusal's own code, so callers that switch on `code` (the browser forms) see it. */
  get code (): string | undefined { return (this.cause as { code?: string }).code }
}

export function retryAfter (ms: number, why: string): RetryAfter {
  return new RetryAfter(Math.max(1, Math.ceil(ms / 1000)), new RateLimitedError(why))
}

/** Counts one hit on `key`; throws RATE_LIMITED (with Retry-After) past `max` per window. */
export async function limit (deps: Deps, key: string, max: number, windowMs: number, why: string): Promise<void> {
  const r = await deps.store.hit(key, max, windowMs)
  if (!r.allowed) throw retryAfter(r.retryAfterMs, why)
}
