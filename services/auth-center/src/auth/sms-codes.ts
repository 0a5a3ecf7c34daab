import { createHmac, randomInt, timingSafeEqual } from 'node:crypto'
import type { Deps } from '../context.js'
import { InvalidCodeError, SmsDeliveryError } from '../errors.js'
import { maskMobile } from './mobile.js'
import { limit, retryAfter } from './rate-limit.js'

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

/**
 * Sends a new six-digit code. Limits, in order: a daily cap per client IP and per
 * number (SMS pumping costs money), then the resend cooldown per number. Test numbers
 * (SMS_TEST_OTP) send nothing and so are exempt.
 */
export async function sendLoginCode (deps: Deps, mobile: string, ip: string): Promise<SendCodeResult> {
  const result = { expiresIn: CODE_TTL_MS / 1000, retryAfter: Math.ceil(deps.config.sms.resendCooldownMs / 1000) }
  if (isTestNumber(deps, mobile) !== undefined) return result

  const { store, config } = deps
  await limit(deps, `sms:ip:${ip}`, config.sms.dailyLimitIp, DAY_MS, 'daily limit of login codes for this address reached')
  await limit(deps, `sms:mobile:${mobile}`, config.sms.dailyLimitMobile, DAY_MS, 'daily limit of login codes for this number reached')

  const code = String(randomInt(0, 1_000_000)).padStart(6, '0')
  const issued = await store.issueSmsCode(mobile, codeHash(deps, mobile, code), {
    ttlMs: CODE_TTL_MS, cooldownMs: config.sms.resendCooldownMs, maxAttempts: MAX_ATTEMPTS
  })
  if (!issued.ok) {
    throw retryAfter(issued.retryAfterMs, 'wait before asking for another code')
  }
  try {
    await deps.sms.send({ mobile, code, expiresIn: result.expiresIn })
  } catch (err) {
    deps.log.error({ mobile: maskMobile(mobile), sender: deps.sms.name, err: (err as Error).message }, 'SMS delivery failed')
    // Nothing was delivered: no code stays alive and the user may ask again at once.
    await store.cancelSmsCode(mobile)
    throw new SmsDeliveryError()
  }
  return result
}

/** Checks and consumes a code; throws INVALID_CODE for wrong, used, expired or dead codes alike. */
export async function checkLoginCode (deps: Deps, mobile: string, code: string): Promise<void> {
  const fixed = isTestNumber(deps, mobile)
  if (fixed !== undefined) {
    // Fixed review codes are reusable: compare only, in constant time.
    const a = Buffer.from(fixed)
    const b = Buffer.from(code)
    if (a.length === b.length && timingSafeEqual(a, b)) return
    throw new InvalidCodeError()
  }
  const r = await deps.store.checkSmsCode(mobile, codeHash(deps, mobile, code))
  if (r !== 'ok') throw new InvalidCodeError()
}
