import type { Deps } from '../context.js'
import { InvalidCredentialsError } from '../errors.js'
import type { User } from '../store/store.js'
import { burnPasswordCheck, verifyPassword } from './password-hash.js'
import { limit } from './rate-limit.js'

export const PASSWORD_WINDOW_MS = 15 * 60_000
export const PASSWORD_TRIES_PER_ACCOUNT = 5
export const PASSWORD_TRIES_PER_IP = 100

/**
 * Checks a password for a number, throttled per account and per IP. Unknown number,
 * no password set and wrong password are one answer, in the same time.
 */
export async function checkPasswordLogin (deps: Deps, mobile: string, password: string, ip: string): Promise<User> {
  const accountKey = `pw:acct:${mobile}`
  await limit(deps, `pw:ip:${ip}`, PASSWORD_TRIES_PER_IP, PASSWORD_WINDOW_MS, 'too many password attempts from this address')
  await limit(deps, accountKey, PASSWORD_TRIES_PER_ACCOUNT, PASSWORD_WINDOW_MS, 'too many password attempts for this account')
  const user = await deps.store.getUserByMobile(mobile)
  const ok = user?.passwordHash !== undefined
    ? await verifyPassword(password, user.passwordHash)
    : await burnPasswordCheck(password)
  if (!ok || user === null) throw new InvalidCredentialsError()
  await deps.store.resetHits(accountKey)
  return user
}
