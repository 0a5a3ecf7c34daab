import t from 'tap'
import { redisCli } from '../src/redis-process.js'
import { startRedisSentinel } from '../src/index.js'

t.test('Sentinel: master, replica and three sentinels; a killed master is replaced by the replica', async (t) => {
  const s = await startRedisSentinel()
  t.teardown(() => s.close())
  t.equal(s.sentinels.split(',').length, 3)
  t.equal(s.masterName, 'authcenter')
  const before = await s.master()
  t.equal((await redisCli(before.port, 'SET', 'kept', 'v')).trim(), 'OK')
  t.equal((await redisCli(before.port, 'WAIT', '1', '1000')).trim(), '1', 'the replica has it')
  const killed = await s.killMaster()
  t.equal(killed.port, before.port)
  await s.settled()
  const after = await s.master()
  t.not(after.port, before.port, 'the sentinels name another master')
  t.equal((await redisCli(after.port, 'GET', 'kept')).trim(), 'v')
})
