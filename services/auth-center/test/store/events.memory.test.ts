import t from 'tap'
import { createMemoryEvents } from '../../src/store/events/memory.js'
import { eventsContract } from './events.contract.js'

await eventsContract(t, 'memory', async () => ({ events: createMemoryEvents(), teardown: async () => {} }))

t.test('memory: the log keeps maxEvents, dropping the oldest', async (t) => {
  const events = createMemoryEvents({ maxEvents: 5 })
  for (let i = 0; i < 8; i++) await events.recordEvent({ at: 1000 + i, type: 'login', reason: String(i) })
  t.strictSame((await events.queryEvents({ limit: 10 })).events.map((e) => e.reason), ['7', '6', '5', '4', '3'])
})
