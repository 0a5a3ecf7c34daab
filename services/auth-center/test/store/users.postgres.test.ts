import t from 'tap'
import { createPostgresUsers } from '../../src/store/users/postgres.js'
import { newMobile, newUser } from './contract-helpers.js'
import { startMigratedPostgres } from './pg-template.js'
import { usersContract } from './users.contract.js'

const pg = await startMigratedPostgres([1])
t.teardown(() => pg.close())

await usersContract(t, 'postgres', async () => {
  const { db } = await pg.fresh()
  return { users: createPostgresUsers(db), teardown: async () => { await db.close() } }
})

t.test('200 concurrent first logins for one mobile over 10 connections make exactly one account row', async (t) => {
  const { db } = await pg.fresh()
  t.teardown(() => db.close())
  const users = createPostgresUsers(db)
  const mobile = newMobile()
  const results = await Promise.all(Array.from({ length: 200 }, async () => await users.getOrCreateUserByMobile(mobile, newUser(mobile))))
  t.equal(results.filter((r) => r.created).length, 1)
  t.equal(new Set(results.map((r) => r.user.id)).size, 1)
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ac_users WHERE mobile = $1', [mobile])
  t.strictSame(rows, [{ n: 1 }])
})
