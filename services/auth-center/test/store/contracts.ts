import type { Test } from 'tap'
import type { Store } from '../../src/store/store.js'
import { clientsContract } from './clients.contract.js'
import { codesContract } from './codes.contract.js'
import { eventsContract } from './events.contract.js'
import { oauthContract } from './oauth.contract.js'
import { sessionsContract } from './sessions.contract.js'
import { usersContract } from './users.contract.js'

export interface StoreFixture {
  store: Store
  teardown (): Promise<void>
}

/**
 * Every concern's contract against a composed Store (one driver per concern, as the app
 * runs it), so a driver test is one call. Each subtest gets a fresh store from `makeStore`.
 * A driver written for one concern runs that concern's contract on its own instead.
 */
export async function storeContract (t: Test, name: string, makeStore: () => Promise<StoreFixture>): Promise<void> {
  await t.test(`${name} store contract`, async (t) => {
    await usersContract(t, name, async () => { const { store, teardown } = await makeStore(); return { users: store, teardown } })
    await sessionsContract(t, name, async () => { const { store, teardown } = await makeStore(); return { sessions: store, teardown } })
    await codesContract(t, name, async () => { const { store, teardown } = await makeStore(); return { codes: store, teardown } })
    await oauthContract(t, name, async () => { const { store, teardown } = await makeStore(); return { oauth: store, teardown } })
    await clientsContract(t, name, async () => { const { store, teardown } = await makeStore(); return { clients: store, teardown } })
    await eventsContract(t, name, async () => { const { store, teardown } = await makeStore(); return { events: store, teardown } })

    t.test('ping resolves', async (t) => {
      const { store, teardown } = await makeStore()
      t.teardown(teardown)
      await t.resolves(store.ping())
    })
  })
}
