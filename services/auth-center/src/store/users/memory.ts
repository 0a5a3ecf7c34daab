import type { User, UserStore } from './users.js'
import { assertCandidate } from '../rules.js'
import { withoutUndefined } from '../memory/copy.js'

/**
 * Users in this process, lost on restart. No `await` between deciding and changing, so
 * each method is atomic for free. Records are copied in and out: a caller changing one
 * never changes the store.
 */
export function createMemoryUsers (): UserStore {
  const users = new Map<string, User>()
  const userIdByMobile = new Map<string, string>()

  return {
    async getUser (id) {
      const u = users.get(id)
      return u === undefined ? null : { ...u }
    },

    async getUserByMobile (mobile) {
      const id = userIdByMobile.get(mobile)
      const u = id === undefined ? undefined : users.get(id)
      return u === undefined ? null : { ...u }
    },

    async getOrCreateUserByMobile (mobile, candidate) {
      assertCandidate(mobile, candidate)
      const id = userIdByMobile.get(mobile)
      const existing = id === undefined ? undefined : users.get(id)
      if (existing !== undefined) return { user: { ...existing }, created: false }
      const user = withoutUndefined({ ...candidate })
      users.set(user.id, user)
      userIdByMobile.set(mobile, user.id)
      return { user: { ...user }, created: true }
    },

    async setPassword (userId, passwordHash, now, expectedHash) {
      const u = users.get(userId)
      if (u === undefined) return
      if (expectedHash !== undefined && u.passwordHash !== expectedHash) return
      u.passwordHash = passwordHash
      u.passwordChangedAt = now
    }
  }
}
