import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import type { UserStore } from '../../src/store/store.js'
import { newMobile, newUser } from './contract-helpers.js'

export interface UsersFixture {
  users: UserStore
  teardown (): Promise<void>
}

/**
 * The behaviour every UserStore driver must have, run once per driver (test/store/contracts.ts
 * runs it against each composed Store). Each subtest gets a fresh store from `make`.
 */
export async function usersContract (t: Test, name: string, make: () => Promise<UsersFixture>): Promise<void> {
  await t.test(`${name} users contract`, async (t) => {
    async function fresh (t: Test): Promise<UserStore> {
      const { users, teardown } = await make()
      t.teardown(teardown)
      return users
    }

    t.test('getOrCreateUserByMobile creates once, then finds the same user by id and by mobile', async (t) => {
      const users = await fresh(t)
      const mobile = newMobile()
      const first = await users.getOrCreateUserByMobile(mobile, newUser(mobile))
      t.equal(first.created, true)
      t.notOk('passwordHash' in first.user, 'an absent optional field stays absent')
      t.notOk('passwordChangedAt' in first.user)

      const second = await users.getOrCreateUserByMobile(mobile, newUser(mobile))
      t.equal(second.created, false)
      t.strictSame(second.user, first.user, 'the second candidate is ignored')
      t.strictSame(await users.getUser(first.user.id), first.user)
      t.strictSame(await users.getUserByMobile(mobile), first.user)
      t.equal(typeof first.user.createdAt, 'number')
    })

    t.test('unknown ids and mobiles give null', async (t) => {
      const users = await fresh(t)
      t.equal(await users.getUser(randomUUID()), null)
      t.equal(await users.getUserByMobile(newMobile()), null)
    })

    t.test('50 concurrent first logins for one mobile make exactly one user', async (t) => {
      const users = await fresh(t)
      const mobile = newMobile()
      const results = await Promise.all(Array.from({ length: 50 }, async () =>
        await users.getOrCreateUserByMobile(mobile, newUser(mobile))))
      t.equal(results.filter((r) => r.created).length, 1, 'exactly one created:true')
      t.equal(new Set(results.map((r) => r.user.id)).size, 1, 'everyone got the same user')
      t.equal((await users.getUserByMobile(mobile))?.id, results[0]?.user.id)
    })

    t.test('a candidate for another mobile is a TypeError', async (t) => {
      const users = await fresh(t)
      await t.rejects(users.getOrCreateUserByMobile(newMobile(), newUser(newMobile())), TypeError)
    })

    t.test('setPassword stores the hash and when it changed; an unknown user is left alone', async (t) => {
      const users = await fresh(t)
      const mobile = newMobile()
      const { user } = await users.getOrCreateUserByMobile(mobile, newUser(mobile))
      const now = Date.now()
      await users.setPassword(user.id, '$scrypt$hash', now)
      const after = await users.getUser(user.id)
      t.equal(after?.passwordHash, '$scrypt$hash')
      t.equal(after?.passwordChangedAt, now)
      t.equal(after?.createdAt, user.createdAt)

      const ghost = randomUUID()
      await users.setPassword(ghost, '$scrypt$hash', now)
      t.equal(await users.getUser(ghost), null, 'no half user is created')
    })

    t.test('setPassword with an expected hash replaces only that hash (a change meanwhile wins)', async (t) => {
      const users = await fresh(t)
      const mobile = newMobile()
      const { user } = await users.getOrCreateUserByMobile(mobile, newUser(mobile))
      await users.setPassword(user.id, '$scrypt$old', 1_000)
      await users.setPassword(user.id, '$scrypt$changed', 2_000)
      await users.setPassword(user.id, '$scrypt$old-re-encoded', 1_000, '$scrypt$old')
      t.equal((await users.getUser(user.id))?.passwordHash, '$scrypt$changed', 'a stale compare-and-set writes nothing')
      await users.setPassword(user.id, '$scrypt$changed-re-encoded', 2_000, '$scrypt$changed')
      const after = await users.getUser(user.id)
      t.equal(after?.passwordHash, '$scrypt$changed-re-encoded')
      t.equal(after?.passwordChangedAt, 2_000)
    })
  })
}
