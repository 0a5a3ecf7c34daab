import { createHmac, randomInt, timingSafeEqual } from 'node:crypto'
import type { Deps } from '../context.js'
import { InvalidCodeError, SmsBudgetExhaustedError, SmsCountryNotAllowedError, SmsDeliveryError } from '../errors.js'
import { ipBudgetKey } from './client-ip.js'
import { inCountries, maskMobile } from './mobile.js'
import { RetryAfter, retryAfter } from './rate-limit.js'
import type { SmsRefusal } from '../metrics/metrics.js'

export const CODE_TTL_MS = 5 * 60_000
export const MAX_ATTEMPTS = 5
const DAY_MS = 86_400_000

/**
 * Codes are stored as an HMAC under the server key (never in clear), bound to the
 * number, so a store dump gives nothing to type into the login form.
 */
function codeHash (deps: Deps, mobile: string, code: string): string {
  return createHmac('sha256', deps.keys.refreshMacKey).update(`sms1|${mobile}|${code}`).digest('base64url')
}

function isTestNumber (deps: Deps, mobile: string): string | undefined {
  return deps.config.sms.testOtp.get(mobile)
}

export interface SendCodeResult { expiresIn: number, retryAfter: number }

/** A daily budget that one sent code spends: a counter key, its cap, and what to say when it is spent. */
interface Budget { key: string, max: number, why: string, refusal: SmsRefusal }

/**
 * Takes one unit of each budget, in order. A refusal gives back every unit taken by
 * this call (the refused one included), so only codes that go out are ever counted.
 */
async function spend (deps: Deps, budgets: readonly Budget[]): Promise<() => Promise<void>> {
  const taken: string[] = []
  const giveBack = async (): Promise<void> => { await Promise.all(taken.map(async (key) => { await deps.store.releaseHit(key) })) }
  for (const b of budgets) {
    const r = await deps.store.hit(b.key, b.max, DAY_MS)
    taken.push(b.key)
    if (!r.allowed) {
      await giveBack()
      deps.metrics.smsRefused(b.refusal)
      throw retryAfter(r.retryAfterMs, b.why)
    }
  }
  return giveBack
}

/**
 * Sends a new six-digit code. Checks, in order: the country allow-list; the daily
 * budgets per client IP, per client IP and number, per number, and for the whole
 * service; then the resend cooldown. Every budget counts codes actually sent: a
 * refusal (cooldown, another budget, a failed delivery) gives its units back, so a
 * burst of requests inside the cooldown costs the number nothing, and one client can
 * spend at most SMS_DAILY_LIMIT_IP_MOBILE of a number's SMS_DAILY_LIMIT_MOBILE.
 * Test numbers (SMS_TEST_OTP) send nothing and so are exempt.
 */
export async function sendLoginCode (deps: Deps, mobile: string, ip: string): Promise<SendCodeResult> {
  const result = { expiresIn: CODE_TTL_MS / 1000, retryAfter: Math.ceil(deps.config.sms.resendCooldownMs / 1000) }
  if (isTestNumber(deps, mobile) !== undefined) return result

  const { store, config } = deps
  if (!inCountries(mobile, config.sms.allowedCountries)) {
    deps.metrics.smsRefused('country_not_allowed')
    throw new SmsCountryNotAllowedError()
  }
  const client = ipBudgetKey(ip)
  const giveBackClient = await spend(deps, [
    { key: `sms:ip:${client}`, max: config.sms.dailyLimitIp, why: 'daily limit of login codes for this address reached', refusal: 'ip_daily_limit' },
    { key: `sms:ipm:${client}|${mobile}`, max: config.sms.dailyLimitIpMobile, why: 'daily limit of login codes from this address to this number reached', refusal: 'ip_mobile_daily_limit' },
    { key: `sms:mobile:${mobile}`, max: config.sms.dailyLimitMobile, why: 'daily limit of login codes for this number reached', refusal: 'mobile_daily_limit' }
  ])
  const global = await store.hit(GLOBAL_BUDGET_KEY, config.sms.dailyLimitGlobal, DAY_MS)
  const giveBack = async (): Promise<void> => { await Promise.all([giveBackClient(), store.releaseHit(GLOBAL_BUDGET_KEY)]) }
  if (!global.allowed) {
    await giveBack()
    await pageOperator(deps, global.retryAfterMs)
    deps.metrics.smsRefused('global_budget')
    throw new RetryAfter(Math.max(1, Math.ceil(global.retryAfterMs / 1000)), new SmsBudgetExhaustedError())
  }

  const code = String(randomInt(0, 1_000_000)).padStart(6, '0')
  const issued = await store.issueSmsCode(mobile, codeHash(deps, mobile, code), {
    ttlMs: CODE_TTL_MS, cooldownMs: config.sms.resendCooldownMs, maxAttempts: MAX_ATTEMPTS
  })
  if (!issued.ok) {
    await giveBack()
    deps.metrics.smsRefused('cooldown')
    throw retryAfter(issued.retryAfterMs, 'wait before asking for another code')
  }
  try {
    await deps.sms.send({ mobile, code, expiresIn: result.expiresIn })
  } catch (err) {
    deps.log.error({ mobile: maskMobile(mobile), sender: deps.sms.name, err: (err as Error).message }, 'SMS delivery failed')
    // Nothing was delivered: no code stays alive, nothing is counted, and the user may ask again at once.
    await store.cancelSmsCode(mobile)
    await giveBack()
    deps.metrics.smsRefused('delivery_failed')
    throw new SmsDeliveryError()
  }
  deps.metrics.smsSent()
  return result
}

const GLOBAL_BUDGET_KEY = 'sms:global'

/**
 * One error line per exhausted day, across replicas (markOnce is atomic in the store),
 * however many requests are refused after it: it is meant to page someone.
 */
async function pageOperator (deps: Deps, untilResetMs: number): Promise<void> {
  if (await deps.store.markOnce('page:sms-global-budget', Math.max(1, untilResetMs))) {
    deps.log.error({ limit: deps.config.sms.dailyLimitGlobal, resetsInS: Math.ceil(untilResetMs / 1000) },
      'SMS_DAILY_LIMIT_GLOBAL exhausted: no login codes are sent until the window resets (SMS pumping, or raise the limit)')
  }
}

/** Checks and consumes a code; throws INVALID_CODE for wrong, used, expired or dead codes alike. */
export async function checkLoginCode (deps: Deps, mobile: string, code: string): Promise<void> {
  const fixed = isTestNumber(deps, mobile)
  if (fixed !== undefined) {
    // Fixed review codes are reusable, but take wrong guesses like a real code: MAX_ATTEMPTS
    // per CODE_TTL_MS window, after which even the right code is refused until the window
    // ends. Wrong tries are counted (atomic, so a burst cannot exceed the tries); a right
    // one only reads the count (one round trip, not a count and a give-back): it passes
    // while the count it would have made is within MAX_ATTEMPTS, so successful logins
    // never use the tries up. A right one refused is counted like a wrong one.
    const key = `sms:fixed-tries:${mobile}`
    const a = Buffer.from(fixed)
    const b = Buffer.from(code)
    if (a.length === b.length && timingSafeEqual(a, b) && await deps.store.countHits(key) < MAX_ATTEMPTS) return
    await deps.store.hit(key, MAX_ATTEMPTS, CODE_TTL_MS)
    throw new InvalidCodeError()
  }
  const r = await deps.store.checkSmsCode(mobile, codeHash(deps, mobile, code))
  if (r !== 'ok') throw new InvalidCodeError()
}
