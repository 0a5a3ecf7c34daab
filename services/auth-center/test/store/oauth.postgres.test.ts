import t from 'tap'
import { createPostgresOAuth } from '../../src/store/oauth/postgres.js'
import { oauthContract } from './oauth.contract.js'
import { startMigratedPostgres } from './pg-template.js'

const pg = await startMigratedPostgres([6])
t.teardown(() => pg.close())

await oauthContract(t, 'postgres', async () => {
  const { db } = await pg.fresh()
  return { oauth: createPostgresOAuth(db), teardown: async () => { await db.close() } }
})
