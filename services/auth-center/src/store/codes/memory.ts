import type { CodeStore, RateResult, SmsCheckResult, SmsIssueResult } from './codes.js'
import { assertSmsOptions, assertWindow } from '../rules.js'
import type { Sweeper } from '../memory/sweep.js'

export interface MemoryCodesOptions {
  /** Drops expired codes, cooldowns, counters and marks now and then; without one they go only when read. */
  sweeper?: Sweeper
}

interface SmsCode { codeHash: string, left: number, deadline: number }
interface Counter { count: number, resetAt: number }

/**
 * SMS codes, rate counters and markOnce marks in this process. No `await` between deciding
 * and changing, so each method is atomic for free. TTLs run on the real clock
 * (`Date.now()`), like Redis's do; what is past its TTL is ignored on read.
 */
export function createMemoryCodes (opts: MemoryCodesOptions = {}): CodeStore {
  const smsCodes = new Map<string, SmsCode>()
  const cooldowns = new Map<string, number>()
  const counters = new Map<string, Counter>()
  /** markOnce keys → deadline. */
  const markers = new Map<string, number>()

  opts.sweeper?.add((now) => {
    for (const [k, v] of smsCodes) if (v.deadline <= now) smsCodes.delete(k)
    for (const [k, v] of cooldowns) if (v <= now) cooldowns.delete(k)
    for (const [k, v] of counters) if (v.resetAt <= now) counters.delete(k)
    for (const [k, v] of markers) if (v <= now) markers.delete(k)
  })

  function liveCode (mobile: string): SmsCode | undefined {
    const code = smsCodes.get(mobile)
    if (code !== undefined && code.deadline <= Date.now()) {
      smsCodes.delete(mobile)
      return undefined
    }
    return code
  }

  function liveCounter (key: string): Counter | undefined {
    const c = counters.get(key)
    if (c !== undefined && c.resetAt <= Date.now()) {
      counters.delete(key)
      return undefined
    }
    return c
  }

  return {
    async issueSmsCode (mobile, codeHash, opts): Promise<SmsIssueResult> {
      assertSmsOptions(opts)
      const { ttlMs, cooldownMs, maxAttempts } = opts
      const now = Date.now()
      const cooldownUntil = cooldowns.get(mobile)
      if (cooldownUntil !== undefined && cooldownUntil > now) {
        return { ok: false, retryAfterMs: cooldownUntil - now }
      }
      if (cooldownMs > 0) cooldowns.set(mobile, now + cooldownMs)
      else cooldowns.delete(mobile)
      smsCodes.set(mobile, { codeHash, left: maxAttempts, deadline: now + ttlMs })
      return { ok: true, retryAfterMs: 0 }
    },

    async cancelSmsCode (mobile) {
      smsCodes.delete(mobile)
      cooldowns.delete(mobile)
    },

    async checkSmsCode (mobile, codeHash): Promise<SmsCheckResult> {
      const code = liveCode(mobile)
      if (code === undefined) return 'missing'
      if (code.codeHash === codeHash) {
        smsCodes.delete(mobile)
        return 'ok'
      }
      code.left -= 1
      if (code.left > 0) return 'wrong'
      smsCodes.delete(mobile)
      return 'dead'
    },

    async hit (key, limit, windowMs): Promise<RateResult> {
      assertWindow(windowMs)
      const now = Date.now()
      let c = liveCounter(key)
      if (c === undefined) {
        c = { count: 0, resetAt: now + windowMs }
        counters.set(key, c)
      }
      c.count += 1
      return { allowed: c.count <= limit, count: c.count, retryAfterMs: c.resetAt - now }
    },

    async resetHits (key) {
      counters.delete(key)
    },

    async releaseHit (key) {
      const c = liveCounter(key)
      if (c !== undefined && c.count > 0) c.count -= 1
    },

    async countHits (key) {
      return liveCounter(key)?.count ?? 0
    },

    async markOnce (key, ttlMs) {
      const now = Date.now()
      const until = markers.get(key)
      if (until !== undefined && until > now) return false
      markers.set(key, now + ttlMs)
      return true
    }
  }
}
