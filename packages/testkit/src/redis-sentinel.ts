import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.js'
import type { RedisNode } from './redis-cluster.js'
import { infoFields, redisCli, spawnRedis, waitUntil, type RedisProcess } from './redis-process.js'

export interface StartRedisSentinelOptions {
  /** The name the sentinels monitor the master under (default `authcenter`). */
  masterName?: string
  /** `down-after-milliseconds` (default 1000): how long the master may be silent before a failover starts. */
  downAfterMs?: number
  /**
   * A password the master and replica want (`requirepass`, `masterauth` for the replica's
   * sync; the sentinels get it as `sentinel auth-pass`): clients need REDIS_PASSWORD.
   * This kit's own redis-cli calls pass it through REDISCLI_AUTH, never on a command line.
   */
  password?: string
  /** A password the sentinels themselves want (their `requirepass`, also used between them): REDIS_SENTINEL_PASSWORD. */
  sentinelPassword?: string
}

export interface RedisSentinel {
  /** `host:port,…` of the three sentinels: REDIS_SENTINELS. */
  readonly sentinels: string
  /** REDIS_SENTINEL_MASTER. */
  readonly masterName: string
  /** The master the sentinels name now. */
  master (): Promise<RedisNode>
  /** SIGKILLs the current master and returns it; the replica is promoted after about downAfterMs (see `settled`). */
  killMaster (): Promise<RedisNode>
  /** Resolves once every sentinel names the same live master, and that node says it is a master. */
  settled (timeoutMs?: number): Promise<void>
  close (): Promise<void>
}

/**
 * Starts a real Sentinel setup on 127.0.0.1: one master, one replica of it and three
 * sentinels (quorum 2), each on a free port, and resolves once every sentinel knows
 * the replica and the other two sentinels, so a failover can happen.
 *
 * @example
 * const s = await startRedisSentinel()
 * const app = await build(loadConfig({ REDIS_SENTINELS: s.sentinels, REDIS_SENTINEL_MASTER: s.masterName }))
 */
export async function startRedisSentinel (opts: StartRedisSentinelOptions = {}): Promise<RedisSentinel> {
  const masterName = opts.masterName ?? 'authcenter'
  const downAfter = opts.downAfterMs ?? 1000
  const { password, sentinelPassword } = opts
  if (password === '' || sentinelPassword === '') throw new TypeError('startRedisSentinel: passwords must not be empty')
  const dataCli = (port: number, ...args: string[]): Promise<string> => redisCli({ port, password }, ...args)
  const sentinelCli = (port: number, ...args: string[]): Promise<string> => redisCli({ port, password: sentinelPassword }, ...args)
  const dir = await mkdtemp(join(tmpdir(), 'authcenter-redis-sentinel-'))
  const data: RedisProcess[] = []
  const sentinels: RedisProcess[] = []
  const close = async (): Promise<void> => {
    await Promise.all([...sentinels, ...data].map(async (p) => { await p.stop() }))
    await rm(dir, { recursive: true, force: true })
  }
  const serverArgs = (port: number): string[] => [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', `dump-${port}.rdb`,
    '--protected-mode', 'yes', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning',
    ...(password !== undefined ? ['--requirepass', password, '--masterauth', password] : [])
  ]
  try {
    const masterPort = await freePort()
    data.push(await spawnRedis(masterPort, serverArgs(masterPort)))
    const replicaPort = await freePort()
    data.push(await spawnRedis(replicaPort, [...serverArgs(replicaPort), '--replicaof', '127.0.0.1', String(masterPort)]))
    await waitUntil('replica in sync', 20_000, async () =>
      infoFields(await dataCli(replicaPort, 'INFO', 'replication')).get('master_link_status') === 'up')

    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      // A sentinel rewrites its configuration file as it learns the setup: one file each.
      const file = join(dir, `sentinel-${port}.conf`)
      await writeFile(file, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'protected-mode no',
        `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${masterName} ${downAfter}`,
        `sentinel failover-timeout ${masterName} ${Math.max(3000, downAfter * 3)}`,
        `sentinel parallel-syncs ${masterName} 1`,
        ...(password !== undefined ? [`sentinel auth-pass ${masterName} ${password}`] : []),
        ...(sentinelPassword !== undefined ? [`requirepass ${sentinelPassword}`] : []),
        ''
      ].join('\n'), { mode: 0o600 })
      sentinels.push(await spawnRedis(port, [file, '--sentinel', '--loglevel', 'warning']))
    }
    await waitUntil('sentinels know each other and the replica', 30_000, async () => {
      const views = await Promise.all(sentinels.map(async (s) => masterFields(await sentinelCli(s.port, 'SENTINEL', 'MASTER', masterName))))
      return views.every((v) => v.get('num-slaves') === '1' && v.get('num-other-sentinels') === '2')
    })
  } catch (err) {
    await close()
    throw err
  }

  const byPort = new Map(data.map((p) => [p.port, p]))
  async function masterSeenBy (s: RedisProcess): Promise<RedisNode> {
    const [host = '', port = ''] = (await sentinelCli(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)).trim().split('\n')
    return { host, port: Number(port) }
  }
  return {
    sentinels: sentinels.map((s) => `${s.host}:${s.port}`).join(','),
    masterName,
    async master () { return await masterSeenBy(sentinels[0]!) },
    async killMaster () {
      const m = await masterSeenBy(sentinels[0]!)
      const proc = byPort.get(m.port)
      if (proc === undefined || !proc.alive) throw new Error('killMaster: the master is already down')
      await proc.kill()
      return m
    },
    async settled (timeoutMs = 30_000) {
      await waitUntil('sentinel settled', timeoutMs, async () => {
        const seen = await Promise.all(sentinels.map(masterSeenBy))
        const port = seen[0]!.port
        if (!seen.every((m) => m.port === port) || byPort.get(port)?.alive !== true) return false
        return infoFields(await dataCli(port, 'INFO', 'replication')).get('role') === 'master'
      })
    },
    close
  }
}

/** `SENTINEL MASTER` in redis-cli's raw mode: field and value on alternate lines. */
function masterFields (text: string): Map<string, string> {
  const lines = text.trim().split('\n')
  const out = new Map<string, string>()
  for (let i = 0; i + 1 < lines.length; i += 2) out.set(lines[i]!, lines[i + 1]!)
  return out
}
