import type { Cluster, Redis } from 'ioredis'
import type { RedisClient } from './client.js'

/**
 * Every key matching `pattern`, by SCAN in batches of `count` (never KEYS: it blocks the
 * server for the whole key space). On a Cluster each master is scanned: a SCAN cursor is
 * one node's. A key may come twice (SCAN's guarantee is "at least once"); callers copy
 * idempotently.
 */
export async function * scanKeys (client: RedisClient, pattern: string, count = 500): AsyncGenerator<string[]> {
  const nodes: Redis[] = isCluster(client) ? client.nodes('master') : [client]
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count)
      cursor = next
      if (keys.length > 0) yield keys
    } while (cursor !== '0')
  }
}

function isCluster (client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true
}

/** The `{…}` hash tag of a key: the id the drivers put there. */
export function hashTag (key: string): string {
  const open = key.indexOf('{')
  const close = key.indexOf('}', open + 1)
  if (open < 0 || close < 0) throw new Error('redis key without a hash tag')
  return key.slice(open + 1, close)
}

/** A glob pattern's special characters escaped, so a prefix matches only itself. */
export function globEscape (s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
}
