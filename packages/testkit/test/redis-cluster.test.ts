import t from 'tap'
import { redisCli } from '../src/redis-process.js'
import { startRedisCluster } from '../src/index.js'

t.test('a cluster of 3 masters and 3 replicas: every slot served; a killed master is replaced by its replica, with the data written before', async (t) => {
  const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 })
  t.teardown(() => cluster.close())
  t.equal(cluster.nodes.length, 6)
  t.equal(cluster.seeds.split(',').length, 6)
  const masters = await cluster.masters()
  t.equal(masters.length, 3)
  const info = await redisCli(masters[0]!.port, 'CLUSTER', 'INFO')
  t.match(info, /cluster_state:ok/)
  t.match(info, /cluster_slots_assigned:16384/)
  t.match(info, /cluster_known_nodes:6/)

  // The key's master (found through -c, which follows MOVED) is the one killed.
  t.equal((await redisCli(masters[0]!.port, '-c', 'SET', '{kept}', 'v')).trim(), 'OK')
  // WAIT has no key, so -c does not follow the key to its master: ask every master (the
  // others have nothing pending and answer at once), so the key's replica has it before the kill.
  for (const m of masters) await redisCli(m.port, 'WAIT', '1', '1000')
  const killed = await cluster.killMaster({ key: '{kept}' })
  await cluster.settled()
  const after = await cluster.masters()
  t.equal(after.length, 3, 'three masters again')
  t.notOk(after.some((m) => m.port === killed.port), 'the killed master is not among them')
  t.equal((await redisCli(after[0]!.port, '-c', 'GET', '{kept}')).trim(), 'v', 'the promoted replica has the key')
})

