import type { Deps } from '../context.js'
import { InvalidCredentialsError } from '../errors.js'
import type { User } from '../store/store.js'
import { ipBudgetKey } from './client-ip.js'
import { burnPasswordCheck, pepperLegacyHash, verifyPassword } from './password-hash.js'
import { limit } from './rate-limit.js'

export const PASSWORD_WINDOW_MS = 15 * 60_000
export const PASSWORD_TRIES_PER_ACCOUNT = 5
// Each try costs a scrypt hash, the most expensive thing the service does: an address
// gets 20 failed tries per window (it was 100). A successful login gives its try back,
// so an office behind one NAT address is not locked out by its own users logging in.
export const PASSWORD_TRIES_PER_IP = 20
/** How long an address that logged in with a password stays "known" (the hash slots' fast lane). */
export const KNOWN_ADDRESS_MS = 30 * 86_400_000

/**
 * Checks a password for a number, throttled per account and per IP (counted before
 * hashing, so a flood is refused before it costs a hash) and bounded by the hash slots
 * (503 PASSWORD_CHECK_BUSY beyond them), where an address that logged in before goes
 * first. Unknown number, no password set and wrong password are one answer, in the same time.
 */
export async function checkPasswordLogin (deps: Deps, mobile: string, password: string, ip: string): Promise<User> {
  const accountKey = `pw:acct:${mobile}`
  const ipKey = `pw:ip:${ipBudgetKey(ip)}`
  await limit(deps, ipKey, PASSWORD_TRIES_PER_IP, PASSWORD_WINDOW_MS, 'too many password attempts from this address')
  await limit(deps, accountKey, PASSWORD_TRIES_PER_ACCOUNT, PASSWORD_WINDOW_MS, 'too many password attempts for this account')
  const knownKey = `pw:known:${ipBudgetKey(ip)}`
  const [user, known] = await Promise.all([deps.store.getUserByMobile(mobile), deps.store.countHits(knownKey)])
  const lane = known > 0 ? 'known' : 'other'
  const ok = user?.passwordHash !== undefined
    ? await verifyPassword(deps.passwordSlots, password, user.passwordHash, deps.keys.passwordPepper, lane)
    : await burnPasswordCheck(deps.passwordSlots, password, lane)
  if (!ok || user === null) throw new InvalidCredentialsError()
  // A hash from before peppering: peppered now, so it too stops being guessable offline; only
  // while it is still the hash just checked, so a password change meanwhile is never undone.
  if (ok === 'legacy') await deps.store.setPassword(user.id, pepperLegacyHash(user.passwordHash!, deps.keys.passwordPepper), user.passwordChangedAt ?? deps.now(), user.passwordHash!)
  await Promise.all([
    deps.store.resetHits(accountKey),
    deps.store.releaseHit(ipKey),
    known > 0 ? undefined : deps.store.hit(knownKey, 1, KNOWN_ADDRESS_MS)
  ])
  return user
}
