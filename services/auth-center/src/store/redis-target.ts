import { setTimeout as sleep } from 'node:timers/promises'
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import type { RedisClient } from './redis/client.js'

export interface HostPort {
  host: string
  port: number
}

/**
 * Where the Redis store is: one server (REDIS_URL), a Redis Cluster (REDIS_CLUSTER_NODES,
 * its seed nodes) or a master watched by Sentinel (REDIS_SENTINELS + REDIS_SENTINEL_MASTER,
 * or the `redis+sentinel://[user:password@]host:port,host:port/<master>` URL form, whose
 * credentials are the master's).
 *
 * `username`/`password`/`tls` are the data nodes' (every cluster node; the master and
 * replicas under Sentinel: REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS); `sentinelUsername`/
 * `sentinelPassword` the sentinels' own (REDIS_SENTINEL_USERNAME, REDIS_SENTINEL_PASSWORD).
 * A server's are in its URL.
 */
export type RedisTarget =
  | { kind: 'server', url: string }
  | ({ kind: 'cluster', nodes: HostPort[] } & NodeAuth)
  | ({ kind: 'sentinel', sentinels: HostPort[], masterName: string, sentinelUsername?: string, sentinelPassword?: string } & NodeAuth)

export interface NodeAuth {
  username?: string
  password?: string
  tls?: boolean
}

/** A bad Redis variable; the message names it and never repeats a password. */
export class RedisTargetError extends Error {
  override name = 'RedisTargetError'
}

export interface RedisVars {
  url?: string | undefined
  clusterNodes?: string | undefined
  sentinels?: string | undefined
  sentinelMaster?: string | undefined
  username?: string | undefined
  password?: string | undefined
  sentinelUsername?: string | undefined
  sentinelPassword?: string | undefined
  /** `true` or `false` (REDIS_TLS). */
  tls?: string | undefined
}

/**
 * The target the variables name, or undefined when none is set (the memory store).
 * Exactly one form may be used: two would leave it unclear which Redis holds the sessions.
 *
 * @example
 * parseRedisTarget({ clusterNodes: '10.0.0.1:7000,10.0.0.2:7000' })
 * // { kind: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }] }
 */
export function parseRedisTarget (vars: RedisVars): RedisTarget | undefined {
  const set = (['url', 'clusterNodes', 'sentinels'] as const).filter((k) => vars[k] !== undefined)
  if (set.length > 1) {
    throw new RedisTargetError(`${set.map((k) => VAR[k]).join(' and ')}: set only one of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS`)
  }
  if (vars.sentinelMaster !== undefined && vars.sentinels === undefined) {
    throw new RedisTargetError('REDIS_SENTINEL_MASTER: only used with REDIS_SENTINELS (set REDIS_SENTINELS to the sentinels\' host:port list)')
  }
  checkCredentialVars(vars)
  const auth = nodeAuth(vars)
  if (vars.clusterNodes !== undefined) return { kind: 'cluster', nodes: hostPorts('REDIS_CLUSTER_NODES', vars.clusterNodes), ...auth }
  if (vars.sentinels !== undefined) {
    if (vars.sentinelMaster === undefined) {
      throw new RedisTargetError('REDIS_SENTINEL_MASTER: required with REDIS_SENTINELS (the name the sentinels monitor the master under)')
    }
    return {
      kind: 'sentinel',
      sentinels: hostPorts('REDIS_SENTINELS', vars.sentinels),
      masterName: vars.sentinelMaster,
      ...auth,
      ...(vars.sentinelUsername !== undefined ? { sentinelUsername: vars.sentinelUsername } : {}),
      ...(vars.sentinelPassword !== undefined ? { sentinelPassword: vars.sentinelPassword } : {})
    }
  }
  if (vars.url === undefined) return undefined
  return vars.url.startsWith('redis+sentinel://') ? sentinelUrl(vars.url) : { kind: 'server', url: vars.url }
}

/**
 * The credential and TLS variables only where they apply. A URL carries its own (two
 * sources would leave it unclear which one is used), and one set without a target it
 * applies to would be silently ignored: a deployment that believes it authenticates.
 * Messages name variables, never values.
 */
function checkCredentialVars (vars: RedisVars): void {
  const nodeVars = [['username', 'REDIS_USERNAME'], ['password', 'REDIS_PASSWORD'], ['tls', 'REDIS_TLS']] as const
  const sentinelVars = [['sentinelUsername', 'REDIS_SENTINEL_USERNAME'], ['sentinelPassword', 'REDIS_SENTINEL_PASSWORD']] as const
  for (const [key, name] of [...nodeVars, ...sentinelVars]) {
    if (vars[key] === '') throw new RedisTargetError(`${name}: empty (unset it, or give a value)`)
  }
  if (vars.tls !== undefined && vars.tls !== 'true' && vars.tls !== 'false') {
    throw new RedisTargetError(`REDIS_TLS: expected true or false (got ${JSON.stringify(vars.tls)})`)
  }
  for (const [key, name] of nodeVars) {
    if (vars[key] === undefined) continue
    if (vars.url !== undefined) {
      throw new RedisTargetError(key === 'tls'
        ? `${name}: not used with REDIS_URL (for TLS to one server use rediss://host:port; for Sentinel set REDIS_SENTINELS and REDIS_SENTINEL_MASTER)`
        : `${name}: not used with REDIS_URL, which carries its own credentials (redis://user:password@host:port, or redis+sentinel://user:password@host:port,…/<master>)`)
    }
    if (vars.clusterNodes === undefined && vars.sentinels === undefined) {
      throw new RedisTargetError(`${name}: only used with REDIS_CLUSTER_NODES or REDIS_SENTINELS`)
    }
  }
  for (const [key, name] of sentinelVars) {
    if (vars[key] !== undefined && vars.sentinels === undefined) {
      throw new RedisTargetError(`${name}: only used with REDIS_SENTINELS (the sentinels' own credentials; the master's are REDIS_USERNAME and REDIS_PASSWORD)`)
    }
  }
}

function nodeAuth (vars: RedisVars): NodeAuth {
  return {
    ...(vars.username !== undefined ? { username: vars.username } : {}),
    ...(vars.password !== undefined ? { password: vars.password } : {}),
    ...(vars.tls === 'true' ? { tls: true } : {})
  }
}

const VAR = { url: 'REDIS_URL', clusterNodes: 'REDIS_CLUSTER_NODES', sentinels: 'REDIS_SENTINELS' } as const

/** `host:port,host:port` (IPv6 as `[::1]:7000`). */
function hostPorts (name: string, value: string): HostPort[] {
  return value.split(',').map((raw) => {
    const entry = raw.trim()
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(entry)
    const port = Number(m?.[2])
    if (m === null || port < 1 || port > 65535) throw new RedisTargetError(`${name}: expected host:port entries separated by commas (got ${JSON.stringify(entry)})`)
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port }
  })
}

function sentinelUrl (url: string): RedisTarget {
  const m = /^redis\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/@]+)\/([A-Za-z0-9._-]{1,64})\/?$/.exec(url)
  if (m === null) throw new RedisTargetError('REDIS_URL: expected redis+sentinel://[user:password@]host:port,host:port/<master name> (or use REDIS_SENTINELS and REDIS_SENTINEL_MASTER)')
  const [, user, password, hosts, masterName] = m
  return {
    kind: 'sentinel',
    sentinels: hostPorts('REDIS_URL', hosts!),
    masterName: masterName!,
    ...(user !== undefined && user !== '' ? { username: decodeURIComponent(user) } : {}),
    ...(password !== undefined ? { password: decodeURIComponent(password) } : {})
  }
}

/** The target for a log line: where, and whether TLS and a password are used; never a password. */
export function describeRedisTarget (target: RedisTarget): string {
  const list = (nodes: HostPort[]): string => nodes.map((n) => `${n.host}:${n.port}`).join(',')
  if (target.kind === 'server') {
    const u = new URL(target.url)
    return `Redis ${u.protocol}//${u.host}`
  }
  const how = [
    ...(target.tls === true ? ['TLS'] : []),
    ...(target.username !== undefined ? [`as ${target.username}`] : []),
    ...(target.password !== undefined ? ['with a password'] : []),
    ...(target.kind === 'sentinel' && target.sentinelPassword !== undefined ? ['sentinels with a password'] : [])
  ]
  if (target.kind === 'cluster') return `Redis Cluster (seeds ${[list(target.nodes), ...how].join('; ')})`
  return `Redis master "${target.masterName}" through Sentinel ${list(target.sentinels)}${how.length > 0 ? ` (${how.join(', ')})` : ''}`
}

/**
 * Cluster behaviour on top of the per-connection options (redisClientOptions in
 * redis-store.ts), chosen for the same goals: fail within a bounded time, never send a
 * command twice, recover without a restart.
 * - `scaleReads: 'master'`: a replica lags; a session read there could be a generation behind.
 * - `retryDelayOnFailover: 0`: a command in flight when a node's connection dropped may
 *   have run; resending it could run a rotation twice. It fails (503) instead.
 * - `retryDelayOnClusterDown`, `retryDelayOnTryAgain`, MOVED/ASK: the command was refused
 *   without running, so sending it again is safe; at most `maxRedirections` times.
 * - `slotsRefreshInterval: 1000`: after a promotion the slot map names the new master
 *   within a second even when no MOVED tells us.
 */
const CLUSTER_OPTIONS = {
  scaleReads: 'master',
  maxRedirections: 8,
  retryDelayOnFailover: 0,
  retryDelayOnClusterDown: 100,
  retryDelayOnTryAgain: 100,
  retryDelayOnMoved: 0,
  slotsRefreshTimeout: 1000,
  slotsRefreshInterval: 1000
} satisfies ClusterOptions

/**
 * Opens the client for a target with `options` (redisClientOptions for the store): a
 * `Redis` for one server or Sentinel (ioredis asks the sentinels for the master and asks
 * again after a failover), a `Cluster` for a cluster (ioredis follows MOVED and refreshes
 * its slot map).
 */
export function connectRedis (target: RedisTarget, options: RedisOptions): RedisClient {
  if (target.kind === 'server') return new Redis(target.url, options)
  const { username, password, tls } = target
  // Every data node's connection: the master and replicas, or each cluster node.
  const auth = {
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(tls === true ? { tls: {} } : {})
  }
  if (target.kind === 'sentinel') {
    const { sentinelUsername, sentinelPassword } = target
    return new Redis({
      ...options,
      sentinels: target.sentinels,
      name: target.masterName,
      ...auth,
      // Without it ioredis would connect to the master the sentinels name in plain TCP, `tls` or not.
      ...(tls === true ? { enableTLSForSentinelMode: true } : {}),
      ...(sentinelUsername !== undefined ? { sentinelUsername } : {}),
      ...(sentinelPassword !== undefined ? { sentinelPassword } : {})
      // No failoverDetector: its sentinel connections outlive quit() (ioredis 6) and keep
      // the process alive. A dead master drops our connection, and a demoted one answers
      // READONLY (reconnectOnError): both make ioredis ask the sentinels again.
    })
  }
  // Options a Cluster takes at its top level, not per node.
  const { retryStrategy, enableOfflineQueue, lazyConnect, ...perNode } = options
  return new Cluster(target.nodes, {
    ...CLUSTER_OPTIONS,
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    ...(typeof retryStrategy === 'function' ? { clusterRetryStrategy: (times: number) => retryStrategy(times) } : {}),
    redisOptions: { ...perNode, ...auth }
  })
}

/**
 * For a Cluster client that is 'ready': opens every master's own connection, so it can
 * take a burst of commands. 'ready' is only the slot map; a master's connection opens
 * on the first command for it, and with the offline queue off (fail fast: 503) the
 * commands that arrive while it is still opening are refused, so the first burst after
 * start would meet 503s. A PING to each master opens them all (a node's own queue holds
 * the PING while it connects). One that keeps failing is given up after `withinMs`: a
 * master down at start delays the start, never stops it. Returns the masters
 * (host:port) that did not answer; nothing to do for one server or Sentinel.
 */
export async function connectMasters (client: RedisClient, withinMs = 5000): Promise<string[]> {
  if (!(client instanceof Cluster)) return []
  const deadline = Date.now() + withinMs
  const answers = async (node: Redis): Promise<boolean> => {
    // Retried: under load a PING queued while connecting can outlast commandTimeout.
    while (Date.now() < deadline) {
      if (await node.ping().then(() => true, () => false)) return true
      await sleep(50)
    }
    return false
  }
  const masters = client.nodes('master')
  const answered = await Promise.all(masters.map(answers))
  return masters.filter((_, i) => !answered[i]).map((node) => `${node.options.host ?? ''}:${node.options.port ?? ''}`)
}

/**
 * Resolves once `client` is 'ready' (enough for @fastify/redis, which then waits no
 * more). Refused credentials fail at once with a RedisTargetError naming the variable
 * to set: ioredis would retry them forever, and for a Cluster @fastify/redis sees only
 * "Failed to refresh slots cache" and gives up after 10 s naming no cause. Other errors
 * (a node still starting) are ioredis' to retry, for `withinMs` at most; then the last
 * one is reported. On failure the client is disconnected, so nothing retries after it.
 * Messages carry the server's reply (NOAUTH, WRONGPASS), never a password.
 */
export async function whenReady (client: RedisClient, target: RedisTarget, withinMs = 10_000): Promise<void> {
  if (client.status === 'ready') return
  let stop = (): void => {}
  try {
    await new Promise<void>((resolve, reject) => {
      let lastError: string | undefined
      const timer = setTimeout(() => {
        reject(new Error(`${describeRedisTarget(target)}: not ready within ${withinMs} ms${lastError !== undefined ? ` (last error: ${lastError})` : ''}`))
      }, withinMs)
      // A Cluster's "Failed to refresh slots cache" carries the node's reply as lastNodeError.
      const onError = (err: Error & { lastNodeError?: Error }): void => {
        lastError = err.lastNodeError?.message ?? err.message
        const at = lastError.search(/\b(NOAUTH|WRONGPASS)\b/)
        // The reply up to its first comma: NOAUTH to HELLO goes on about HELLO AUTH.
        if (at >= 0) reject(new RedisTargetError(refusal(target, err.message, lastError.slice(at).split(',')[0]!)))
      }
      stop = () => {
        clearTimeout(timer)
        client.off('ready', resolve).off('error', onError).off('node error', onError)
      }
      client.on('ready', resolve).on('error', onError).on('node error', onError)
    })
  } catch (err) {
    client.disconnect()
    throw err
  } finally {
    stop()
  }
}

/** Which credentials were refused, as the variables to set. */
function refusal (target: RedisTarget, error: string, reply: string): string {
  // The sentinel connector reports a sentinel's refusal inside its own message.
  if (target.kind === 'sentinel' && error.startsWith('All sentinels are unreachable')) {
    return `REDIS_SENTINEL_PASSWORD: the sentinels refused the connection (${reply}); set REDIS_SENTINEL_PASSWORD (and REDIS_SENTINEL_USERNAME for an ACL user) to the sentinels' own credentials`
  }
  if (target.kind === 'server') {
    return `REDIS_URL: Redis refused the connection (${reply}); give the credentials in the URL (redis://user:password@host:port)`
  }
  const nodes = target.kind === 'cluster' ? 'the cluster nodes' : `the master "${target.masterName}"`
  return `REDIS_PASSWORD: ${nodes} refused the connection (${reply}); set REDIS_PASSWORD (and REDIS_USERNAME for an ACL user) to their credentials`
}
