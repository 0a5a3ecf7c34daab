import t from 'tap'
import { createPostgresCodes } from '../../src/store/codes/postgres.js'
import { codesContract } from './codes.contract.js'
import { startMigratedPostgres } from './pg-template.js'

const pg = await startMigratedPostgres([5, 8])
t.teardown(() => pg.close())

await codesContract(t, 'postgres', async () => {
  const { db } = await pg.fresh()
  return { codes: createPostgresCodes(db), teardown: async () => { await db.close() } }
})
