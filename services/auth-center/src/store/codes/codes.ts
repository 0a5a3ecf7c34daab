/**
 * Short-lived counters and codes: SMS codes, rate budgets, DPoP `jti` replay marks (see ../store.ts). Hot state.
 * Drivers: memory.ts (createMemoryCodes), redis.ts (createRedisCodes); contract: test/store/codes.contract.ts.
 */

export type SmsCheckResult =
  | 'ok'        // matched: the code is consumed
  | 'wrong'     // did not match: one try used, the code lives on
  | 'dead'      // did not match and that was the last try: the code is gone
  | 'missing'   // no live code for this number

export interface SmsIssueResult {
  ok: boolean
  /** When `ok` is false: how long until a new code may be sent. */
  retryAfterMs: number
}

export interface RateResult {
  allowed: boolean
  count: number
  /** Time until the window resets. */
  retryAfterMs: number
}

export interface CodeStore {
  /**
   * Atomic: refuses while the cooldown for this mobile runs; otherwise replaces any
   * live code with `codeHash` (ttlMs, maxAttempts tries) and starts the cooldown.
   */
  issueSmsCode (mobile: string, codeHash: string, opts: { ttlMs: number, cooldownMs: number, maxAttempts: number }): Promise<SmsIssueResult>
  /** Atomic check-and-consume, see SmsCheckResult. */
  checkSmsCode (mobile: string, codeHash: string): Promise<SmsCheckResult>
  /** Drops the live code and the cooldown of a number: its delivery failed, so the user may ask again at once. */
  cancelSmsCode (mobile: string): Promise<void>

  // counters
  /** Fixed-window counter: counts this hit and says whether it is within `limit`. */
  hit (key: string, limit: number, windowMs: number): Promise<RateResult>
  /** Clears a counter (e.g. failed-password counter after a success). */
  resetHits (key: string): Promise<void>
  /**
   * Gives back one hit of the current window: the request it counted turned out not
   * to count (an SMS refused by the cooldown, a password that was right). Never goes
   * below zero, never starts a window, never moves the window's end.
   */
  releaseHit (key: string): Promise<void>
  /** The count of the current window (0 when there is none), without counting. */
  countHits (key: string): Promise<number>

  /** Atomic check-and-mark: true the first time `key` is marked within `ttlMs` (DPoP proof jti replay cache). */
  markOnce (key: string, ttlMs: number): Promise<boolean>
}
