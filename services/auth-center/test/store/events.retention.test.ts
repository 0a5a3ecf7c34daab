import t from 'tap'
import { createMemoryEvents } from '../../src/store/events/memory.js'
import { startEventRetention } from '../../src/store/events/retention.js'

t.test('retention deletes the events older than its bound at once', async (t) => {
  const events = createMemoryEvents()
  const day = 86_400_000
  const now = 100 * day
  for (const age of [91, 90.5, 89, 1]) await events.recordEvent({ at: now - age * day, type: 'login', reason: String(age) })
  const lines: unknown[] = []
  const log = { info: (o: unknown) => { lines.push(o) }, warn: (o: unknown) => { lines.push(o) } } as never
  const stop = startEventRetention(events, 90 * day, () => now, log)
  t.teardown(stop)
  await new Promise((resolve) => setImmediate(resolve))
  t.strictSame((await events.queryEvents({ limit: 10 })).events.map((e) => e.reason), ['1', '89'])
  t.strictSame(lines, [{ pruned: 2 }])
})
