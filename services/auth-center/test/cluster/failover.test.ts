import t, { type Test } from 'tap'
import { startRedisCluster, startRedisSentinel } from '@authcenter/testkit'
import { startAuthCenter, TEST_MOBILE, TEST_OTP, type RunningAuthCenter } from '../helpers/auth-center.js'

/** Sessions refreshing at once, each in its own loop: the bounded load. */
const SESSIONS = 4
/** Pause between two refreshes of one session (ms). */
const PAUSE_MS = 20
/** Successful refreshes every session must make after the failover has settled: the recovery. */
const AFTER = 3

interface Tally { statuses: Map<string, number>, reused: number, before: number, after: number[] }

/**
 * Refreshes every session in a loop while `failover()` runs, and goes on until each
 * session has refreshed AFTER times since it finished. A refresh answered 503 is retried
 * with the same token, as a client would; any other answer than 200 or 503 is counted.
 */
async function refreshThrough (ac: RunningAuthCenter, failover: () => Promise<void>): Promise<Tally> {
  const tally: Tally = { statuses: new Map(), reused: 0, before: 0, after: Array(SESSIONS).fill(0) }
  const tokens: string[] = []
  for (let i = 0; i < SESSIONS; i++) {
    const l = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP, device: { name: `device ${i}` } })
    tokens.push(l.body.refresh_token)
  }
  let settled = false
  let stop = false
  const loops = tokens.map(async (_token, i) => {
    while (!stop) {
      const r = await ac.call('POST', '/auth/refresh', { refresh_token: tokens[i] })
      const key = r.status === 200 || r.status === 503 ? String(r.status) : `${r.status} ${String(r.body?.code)}`
      tally.statuses.set(key, (tally.statuses.get(key) ?? 0) + 1)
      if (r.body?.code === 'REFRESH_TOKEN_REUSED') tally.reused++
      if (r.status === 200) {
        tokens[i] = r.body.refresh_token
        if (settled) tally.after[i]!++
        else tally.before++
      } else if (r.status !== 503) {
        return // the session is lost: nothing more to learn from it
      }
      if (tally.after[i]! >= AFTER) return
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS))
    }
  })
  // Let the load run before the failover, so some refreshes land right around the kill.
  while (tally.before < SESSIONS * 3) await new Promise((resolve) => setTimeout(resolve, 10))
  await failover()
  settled = true
  const deadline = setTimeout(() => { stop = true }, 30_000)
  await Promise.all(loops)
  clearTimeout(deadline)
  return tally
}

function checkTally (t: Test, tally: Tally): void {
  t.comment(`answers: ${JSON.stringify(Object.fromEntries(tally.statuses))}`)
  const other = [...tally.statuses.keys()].filter((k) => k !== '200' && k !== '503')
  t.same(other, [], `only 200 or 503 during the failover (seen: ${JSON.stringify(Object.fromEntries(tally.statuses))})`)
  t.ok((tally.statuses.get('503') ?? 0) > 0, 'the failover was felt: some refreshes answered 503 while no master was reachable')
  t.equal(tally.reused, 0, 'no REFRESH_TOKEN_REUSED: nobody was logged out')
  t.same(tally.after, Array(SESSIONS).fill(AFTER), `every session refreshed ${AFTER} times after the promotion, without a restart`)
}

t.test('Sentinel: the master is killed while refreshes run; the service answers 200 or 503, never a false reuse, and recovers without a restart', async (t) => {
  const s = await startRedisSentinel()
  t.teardown(() => s.close())
  // The default grace window: a refresh answered 503 whose rotation did happen is retried inside it.
  const ac = await startAuthCenter({ REDIS_SENTINELS: s.sentinels, REDIS_SENTINEL_MASTER: s.masterName, REFRESH_GRACE: '10s' })
  t.teardown(() => ac.close())
  const tally = await refreshThrough(ac, async () => {
    const killed = await s.killMaster()
    await s.settled()
    t.not((await s.master()).port, killed.port, 'the replica was promoted')
  })
  checkTally(t, tally)
})

t.test('Redis Cluster (3 masters + 3 replicas): a master is killed while refreshes run; 200 or 503 only, never a false reuse, recovery without a restart', async (t) => {
  const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 })
  t.teardown(() => cluster.close())
  const ac = await startAuthCenter({ REDIS_CLUSTER_NODES: cluster.seeds, REFRESH_GRACE: '10s' })
  t.teardown(() => ac.close())
  const tally = await refreshThrough(ac, async () => {
    // The master of the feed keys' slot (every revocation and snapshot goes through it), and of the sessions hashed to its slots.
    const killed = await cluster.killMaster({ key: 'ac:{deny}' })
    await cluster.settled()
    t.notOk((await cluster.masters()).some((m) => m.port === killed.port), 'its replica took over')
  })
  checkTally(t, tally)
})
