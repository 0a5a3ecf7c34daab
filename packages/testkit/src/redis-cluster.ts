import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.js'
import { infoFields, redisCli, spawnRedis, waitUntil, type RedisProcess, type RedisTlsFiles } from './redis-process.js'

export interface RedisNode {
  host: string
  port: number
}

export interface StartRedisClusterOptions {
  /** Masters, each serving an equal share of the 16,384 slots (default 3, at least 3: `redis-cli --cluster create` wants 3). */
  masters?: number
  /** Replicas of each master (default 1). */
  replicasPerMaster?: number
  /**
   * `cluster-node-timeout` in ms (default 1000): how long a master may be silent before
   * its replica takes over. Low so a failover test waits seconds, not the default 15 s.
   */
  nodeTimeoutMs?: number
  /**
   * A password every node wants (`--requirepass`, and `--masterauth` so replicas can sync):
   * a cluster as production runs it. Clients then need it (REDIS_PASSWORD); this kit's
   * own redis-cli calls pass it through REDISCLI_AUTH, never on a command line.
   */
  password?: string
  /**
   * TLS only (makeTestCertificates): every node listens on a `--tls-port` (no plain
   * port), and the cluster bus and replication use TLS too. Clients need REDIS_TLS=true
   * and to trust `ca`.
   */
  tls?: RedisTlsFiles
}

/** What `killMaster` picks: the n-th master by its slots (0 serves slot 0), the master of a slot, or of a key. */
export type MasterTarget = number | { slot: number } | { key: string }

export interface RedisCluster {
  /** Every node as started, masters and replicas. */
  readonly nodes: readonly RedisNode[]
  /** `host:port,host:port,…` of every node: the seeds for REDIS_CLUSTER_NODES. */
  readonly seeds: string
  /** The masters now, ordered by the first slot each serves. */
  masters (): Promise<RedisNode[]>
  /** SIGKILLs the master of `target` and returns it; its replica takes over after about nodeTimeoutMs (see `settled`). */
  killMaster (target: MasterTarget): Promise<RedisNode>
  /** Resolves once every slot is served by a live master and every live node says cluster_state:ok. */
  settled (timeoutMs?: number): Promise<void>
  /** Stops every node and removes the directory. */
  close (): Promise<void>
}

const SLOTS = 16384

/**
 * Starts a real Redis Cluster on 127.0.0.1: `masters × (1 + replicasPerMaster)`
 * `redis-server --cluster-enabled yes` processes on free ports (each with its bus port,
 * port + 10000, free too), joined by `redis-cli --cluster create`, and resolves once
 * every node agrees the cluster is up and every replica is in sync with its master.
 *
 * @example
 * const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 })
 * const app = await build(loadConfig({ REDIS_CLUSTER_NODES: cluster.seeds }))
 * await cluster.killMaster({ key: 'ac:s:{abc}' })
 * await cluster.settled()
 */
export async function startRedisCluster (opts: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const masterCount = opts.masters ?? 3
  const replicas = opts.replicasPerMaster ?? 1
  if (!Number.isInteger(masterCount) || masterCount < 3) throw new TypeError('startRedisCluster: masters must be an integer >= 3')
  if (!Number.isInteger(replicas) || replicas < 0) throw new TypeError('startRedisCluster: replicasPerMaster must be an integer >= 0')
  const nodeTimeout = opts.nodeTimeoutMs ?? 1000
  const password = opts.password
  if (password === '') throw new TypeError('startRedisCluster: password must not be empty')
  const tls = opts.tls
  const cli = (port: number, ...args: string[]): Promise<string> => redisCli({ port, password, tls }, ...args)
  const dir = await mkdtemp(join(tmpdir(), 'authcenter-redis-cluster-'))
  const procs: RedisProcess[] = []
  const close = async (): Promise<void> => {
    await Promise.all(procs.map(async (p) => { await p.stop() }))
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const ports = await clusterPorts(masterCount * (1 + replicas))
    for (const port of ports) {
      const listen = tls === undefined
        ? ['--port', String(port)]
        : ['--port', '0', '--tls-port', String(port), '--tls-cluster', 'yes', '--tls-replication', 'yes',
            '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no']
      procs.push(await spawnRedis(port, [
        ...listen, '--bind', '127.0.0.1', '--dir', dir, '--protected-mode', 'yes',
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
        '--cluster-node-timeout', String(nodeTimeout),
        // A replica always may take over, however long since it heard from its master: the test decides when masters die.
        '--cluster-replica-validity-factor', '0',
        '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning',
        ...(password !== undefined ? ['--requirepass', password, '--masterauth', password] : [])
      ], { tls }))
    }
    await cli(ports[0]!, '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas', String(replicas), '--cluster-yes')
    const cluster = clusterOf(procs, nodeTimeout, cli, close)
    await cluster.settled(30_000)
    // Replicas in sync, so that killing a master loses nothing written before the kill was asked for.
    await waitUntil('replicas in sync', 30_000, async () => {
      const roles = await Promise.all(ports.map(async (p) => infoFields(await cli(p, 'INFO', 'replication'))))
      return roles.filter((r) => r.get('role') === 'slave' && r.get('master_link_status') === 'up').length === masterCount * replicas
    })
    return cluster
  } catch (err) {
    await close()
    throw err
  }
}

function clusterOf (procs: RedisProcess[], nodeTimeout: number, cli: (port: number, ...args: string[]) => Promise<string>, close: () => Promise<void>): RedisCluster {
  const byPort = new Map(procs.map((p) => [p.port, p]))
  const nodes = procs.map((p) => ({ host: p.host, port: p.port }))

  async function view (): Promise<ClusterNode[]> {
    for (const p of procs) {
      if (!p.alive) continue
      try { return parseClusterNodes(await cli(p.port, 'CLUSTER', 'NODES')) } catch {}
    }
    throw new Error('no cluster node answers')
  }

  async function masters (): Promise<ClusterNode[]> {
    return (await view()).filter((n) => n.master && !n.failed && n.slots.length > 0).sort((a, b) => a.slots[0]![0] - b.slots[0]![0])
  }

  return {
    nodes,
    seeds: nodes.map((n) => `${n.host}:${n.port}`).join(','),
    async masters () { return (await masters()).map(({ host, port }) => ({ host, port })) },
    async killMaster (target) {
      const list = await masters()
      let victim: ClusterNode | undefined
      if (typeof target === 'number') {
        victim = list[target]
      } else {
        const slot = 'slot' in target ? target.slot : Number(await cli(list[0]!.port, 'CLUSTER', 'KEYSLOT', target.key))
        victim = list.find((m) => m.slots.some(([from, to]) => slot >= from && slot <= to))
      }
      const proc = victim === undefined ? undefined : byPort.get(victim.port)
      if (victim === undefined || proc === undefined || !proc.alive) throw new Error(`killMaster: no live master for ${JSON.stringify(target)}`)
      await proc.kill()
      return { host: victim.host, port: victim.port }
    },
    async settled (timeoutMs = Math.max(20_000, nodeTimeout * 20)) {
      await waitUntil('cluster settled', timeoutMs, async () => {
        const live = procs.filter((p) => p.alive)
        const views = await Promise.all(live.map(async (p) => ({
          state: infoFields(await cli(p.port, 'CLUSTER', 'INFO')).get('cluster_state'),
          nodes: parseClusterNodes(await cli(p.port, 'CLUSTER', 'NODES'))
        })))
        return views.every((v) => {
          if (v.state !== 'ok') return false
          let covered = 0
          for (const n of v.nodes) {
            if (!n.master || n.failed || n.slots.length === 0) continue
            if (byPort.get(n.port)?.alive !== true) return false
            for (const [from, to] of n.slots) covered += to - from + 1
          }
          return covered === SLOTS
        })
      })
    },
    close
  }
}

interface ClusterNode {
  host: string
  port: number
  master: boolean
  failed: boolean
  slots: Array<[number, number]>
}

/** `CLUSTER NODES`: `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot>…` per line. */
function parseClusterNodes (text: string): ClusterNode[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const [, addr = '', flags = '', , , , , , ...slots] = line.trim().split(' ')
    const [host = '', rest = ''] = addr.split(':')
    const flagList = flags.split(',')
    return {
      host,
      port: Number(rest.split('@')[0]),
      master: flagList.includes('master'),
      failed: flagList.includes('fail') || flagList.includes('noaddr'),
      // Importing/migrating markers (`[5-<-id]`) are not slots served.
      slots: slots.filter((s) => !s.startsWith('[')).map((s) => {
        const [from, to = from] = s.split('-').map(Number)
        return [from!, to!] as [number, number]
      })
    }
  })
}

/**
 * `count` distinct free ports whose bus port (+10000) is free as well, none of them
 * another one's bus port.
 */
async function clusterPorts (count: number): Promise<number[]> {
  const taken = new Set<number>()
  const out: number[] = []
  for (let tries = 0; out.length < count; tries++) {
    if (tries > count * 50) throw new Error('startRedisCluster: could not find free ports with free bus ports (port + 10000)')
    const port = await freePort()
    if (port + 10000 > 65535 || taken.has(port) || taken.has(port + 10000)) continue
    if (!await isFree(port + 10000)) continue
    taken.add(port).add(port + 10000)
    out.push(port)
  }
  return out
}

async function isFree (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => { resolve(false) })
    srv.listen(port, '127.0.0.1', () => { srv.close(() => { resolve(true) }) })
  })
}
