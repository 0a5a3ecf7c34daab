import t from 'tap'
import { createPostgresClients } from '../../src/store/clients/postgres.js'
import { clientsContract } from './clients.contract.js'
import { startMigratedPostgres } from './pg-template.js'

const pg = await startMigratedPostgres([2])
t.teardown(() => pg.close())

await clientsContract(t, 'postgres', async () => {
  const { db } = await pg.fresh()
  return { clients: createPostgresClients(db), teardown: async () => { await db.close() } }
})

t.test('two deletions at once take each grant of the client once', async (t) => {
  const { db } = await pg.fresh()
  t.teardown(() => db.close())
  const clients = createPostgresClients(db)
  await clients.putClient({ clientId: 'c', createdAt: 1, registration: { client_id: 'c' } })
  const ids = Array.from({ length: 100 }, (_v, i) => `s${i}`)
  for (const id of ids) await clients.addClientSession('c', id)
  const taken = await Promise.all([clients.takeClientSessions('c'), clients.takeClientSessions('c')])
  t.equal(taken[0]!.length + taken[1]!.length, 100)
  t.strictSame([...taken[0]!, ...taken[1]!].sort(), [...ids].sort())
})
