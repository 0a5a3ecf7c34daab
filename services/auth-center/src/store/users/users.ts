/**
 * Accounts: the users concern of the store (see ../store.ts). Durable: PostgreSQL when DATABASE_URL is set.
 * Drivers: memory.ts (createMemoryUsers), redis.ts (createRedisUsers); contract: test/store/users.contract.ts.
 */

export interface User {
  id: string
  /** E.164, e.g. `+8613800138000`. */
  mobile: string
  /** scrypt/argon2 PHC-style string; absent until the user sets a password. */
  passwordHash?: string
  createdAt: number
  passwordChangedAt?: number
}

export interface UserStore {
  getUser (id: string): Promise<User | null>
  getUserByMobile (mobile: string): Promise<User | null>
  /** Atomic: concurrent calls for one mobile all get the same user; `created` is true for exactly one. */
  getOrCreateUserByMobile (mobile: string, candidate: User): Promise<{ user: User, created: boolean }>
  /**
   * With `expectedHash`, a compare-and-set: the hash is replaced only while it is still that one,
   * so re-encoding an old hash at login can never undo a password change that happened meanwhile.
   */
  setPassword (userId: string, passwordHash: string, now: number, expectedHash?: string): Promise<void>

}
