import type { Test } from 'tap'
import type { ClientStore } from '../../src/store/store.js'

export interface ClientsFixture {
  clients: ClientStore
  teardown (): Promise<void>
}

/**
 * The behaviour every ClientStore driver must have (OAuth2 clients registered through the
 * admin API, and the index of the grants made for them), run once per driver.
 */
export async function clientsContract (t: Test, name: string, make: () => Promise<ClientsFixture>): Promise<void> {
  await t.test(`${name} clients contract`, async (t) => {
    async function fresh (t: Test): Promise<ClientStore> {
      const { clients, teardown } = await make()
      t.teardown(teardown)
      return clients
    }

    t.test('put, get, list and delete clients; the session index is taken once', async (t) => {
      const clients = await fresh(t)
      const a = { clientId: 'a', createdAt: 1, registration: { client_id: 'a', type: 'public', redirect_uris: ['http://localhost/cb'] } }
      t.equal(await clients.getClient('a'), null)
      t.strictSame(await clients.listClients(), [])
      t.equal(await clients.putClient(a, { ifAbsent: true }), true)
      t.equal(await clients.putClient({ ...a, createdAt: 2 }, { ifAbsent: true }), false, 'ifAbsent: an existing client stays')
      t.strictSame(await clients.getClient('a'), a)
      const b = { clientId: 'b', createdAt: 3, registration: { client_id: 'b' } }
      t.equal(await clients.putClient(b), true)
      t.equal(await clients.putClient({ ...b, createdAt: 4 }), true, 'without ifAbsent: replaced')
      t.strictSame((await clients.listClients()).map((c) => `${c.clientId}:${c.createdAt}`), ['a:1', 'b:4'])

      await clients.addClientSession('a', 's1')
      await clients.addClientSession('a', 's2')
      await clients.addClientSession('a', 's1')
      t.strictSame((await clients.takeClientSessions('a')).sort(), ['s1', 's2'])
      t.strictSame(await clients.takeClientSessions('a'), [], 'taken once')

      t.equal(await clients.deleteClient('a'), true)
      t.equal(await clients.deleteClient('a'), false)
      t.equal(await clients.getClient('a'), null)
      t.strictSame((await clients.listClients()).map((c) => c.clientId), ['b'])
    })

    t.test('deleteClient leaves the session index, so the grants can still be taken and revoked', async (t) => {
      const clients = await fresh(t)
      await clients.putClient({ clientId: 'gone', createdAt: 1, registration: { client_id: 'gone' } })
      await clients.addClientSession('gone', 's1')
      t.equal(await clients.deleteClient('gone'), true)
      t.strictSame(await clients.takeClientSessions('gone'), ['s1'])
    })
  })
}
