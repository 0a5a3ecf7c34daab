import t from 'tap'
import { createMemoryStore } from '../../src/store/index.js'
import { storeContract } from './contracts.js'

await storeContract(t, 'memory', async () => {
  // A short sweep interval so the sweeper runs during the contract, next to the lazy expiry.
  const store = createMemoryStore({ sweepIntervalMs: 50 })
  return { store, teardown: async () => { await store.close() } }
})

t.test('createMemoryStore rejects a bad sweepIntervalMs', async (t) => {
  t.throws(() => createMemoryStore({ sweepIntervalMs: 0 }), TypeError)
})

t.test('returned records are copies: changing one does not change the store', async (t) => {
  const store = createMemoryStore()
  t.teardown(() => store.close())
  const { user } = await store.getOrCreateUserByMobile('+8613800138000', { id: 'u1', mobile: '+8613800138000', createdAt: 1 })
  user.passwordHash = 'tampered'
  t.equal((await store.getUser('u1'))?.passwordHash, undefined)
})
