import t from 'tap'
import { createPostgresEvents } from '../../src/store/events/postgres.js'
import { eventsContract } from './events.contract.js'
import { startMigratedPostgres } from './pg-template.js'

const pg = await startMigratedPostgres([7])
t.teardown(() => pg.close())

await eventsContract(t, 'postgres', async () => {
  const { db } = await pg.fresh()
  return { events: createPostgresEvents(db), teardown: async () => { await db.close() } }
})
