import type { Deps } from '../context.js'
import { InvalidCredentialsError } from '../errors.js'
import type { User } from '../store/store.js'
import { ipBudgetKey } from './client-ip.js'
import { burnPasswordCheck, verifyPassword } from './password-hash.js'
import { limit } from './rate-limit.js'

export const PASSWORD_WINDOW_MS = 15 * 60_000
export const PASSWORD_TRIES_PER_ACCOUNT = 5
// Each try costs a scrypt hash, the most expensive thing the service does: an address
// gets 20 failed tries per window (it was 100). A successful login gives its try back,
// so an office behind one NAT address is not locked out by its own users logging in.
export const PASSWORD_TRIES_PER_IP = 20

/**
 * Checks a password for a number, throttled per account and per IP (counted before
 * hashing, so a flood is refused before it costs a hash) and bounded by the hash slots
 * (503 PASSWORD_CHECK_BUSY beyond them). Unknown number, no password set and wrong
 * password are one answer, in the same time.
 */
export async function checkPasswordLogin (deps: Deps, mobile: string, password: string, ip: string): Promise<User> {
  const accountKey = `pw:acct:${mobile}`
  const ipKey = `pw:ip:${ipBudgetKey(ip)}`
  await limit(deps, ipKey, PASSWORD_TRIES_PER_IP, PASSWORD_WINDOW_MS, 'too many password attempts from this address')
  await limit(deps, accountKey, PASSWORD_TRIES_PER_ACCOUNT, PASSWORD_WINDOW_MS, 'too many password attempts for this account')
  const user = await deps.store.getUserByMobile(mobile)
  const ok = user?.passwordHash !== undefined
    ? await verifyPassword(deps.passwordSlots, password, user.passwordHash)
    : await burnPasswordCheck(deps.passwordSlots, password)
  if (!ok || user === null) throw new InvalidCredentialsError()
  await Promise.all([deps.store.resetHits(accountKey), deps.store.releaseHit(ipKey)])
  return user
}
