import { createECDH, createHash, createHmac, createPrivateKey, type KeyObject } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Redis } from 'ioredis'

/** Everything an offline reader holds: every string of a redis-server and of a directory. */
export interface Dump {
  /** Every key, field, member, score and value, one entry each. */
  strings: string[]
  /** Redis types seen that dumpRedis does not know how to read (the test fails on any). */
  unknownTypes: string[]
  files: string[]
}

/** Reads every key of every type of the redis-server at `url` (SCAN, so nothing is missed). */
export async function dumpRedis (url: string): Promise<Dump> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 })
  const strings: string[] = []
  const unknownTypes: string[] = []
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 1000)
      cursor = next
      for (const key of keys) {
        strings.push(key)
        const type = await redis.type(key)
        switch (type) {
          case 'string': strings.push((await redis.get(key)) ?? ''); break
          case 'hash': strings.push(...Object.entries(await redis.hgetall(key)).flat()); break
          case 'set': strings.push(...await redis.smembers(key)); break
          case 'zset': strings.push(...await redis.zrange(key, '0', '-1', 'WITHSCORES')); break
          case 'list': strings.push(...await redis.lrange(key, 0, -1)); break
          case 'stream':
            for (const [id, fields] of await redis.xrange(key, '-', '+')) strings.push(id, ...fields)
            break
          default: unknownTypes.push(`${key}: ${type}`)
        }
      }
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
  return { strings, unknownTypes, files: [] }
}

/** Reads every file under `dir`, recursively, as text. */
export async function dumpDir (dir: string): Promise<Dump> {
  const files: string[] = []
  const strings: string[] = []
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath ?? (entry as { path?: string }).path ?? dir, entry.name)
    files.push(path.slice(dir.length + 1))
    strings.push(await readFile(path, 'utf8'))
  }
  return { strings, unknownTypes: [], files }
}

/**
 * What a reader could try as key material: every string, every part of it split at
 * separators, every JSON value inside it (objects too, to try as JWKs), and every
 * decoding of those (utf8, base64url, base64, hex).
 */
export interface Candidates {
  strings: Set<string>
  objects: object[]
  buffers: Buffer[]
}

export function candidates (dumpStrings: Iterable<string>): Candidates {
  const strings = new Set<string>()
  const objects: object[] = []
  const walkJson = (v: unknown): void => {
    if (typeof v === 'string') addString(v)
    else if (typeof v === 'number') addString(String(v))
    else if (Array.isArray(v)) v.forEach(walkJson)
    else if (typeof v === 'object' && v !== null) {
      objects.push(v)
      for (const [k, x] of Object.entries(v)) { addString(k); walkJson(x) }
    }
  }
  function addString (s: string): void {
    if (strings.has(s)) return
    strings.add(s)
    if (/^\s*[[{"]/.test(s)) {
      try { walkJson(JSON.parse(s)) } catch {}
    }
    for (const part of s.split(/[.|:,;=\s{}[\]"]+/)) if (part !== '' && part !== s) addString(part)
  }
  for (const s of dumpStrings) addString(s)

  const seen = new Set<string>()
  const buffers: Buffer[] = []
  const add = (b: Buffer): void => {
    const h = b.toString('hex')
    if (b.length > 0 && !seen.has(h)) { seen.add(h); buffers.push(b) }
  }
  for (const s of strings) {
    add(Buffer.from(s, 'utf8'))
    if (/^[A-Za-z0-9_-]+={0,2}$/.test(s)) add(Buffer.from(s, 'base64url'))
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(s)) add(Buffer.from(s, 'base64'))
    if (/^(?:[0-9a-fA-F]{2})+$/.test(s)) add(Buffer.from(s, 'hex'))
  }
  return { strings, objects, buffers }
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** Every private key that can be built from the candidates: JWK, PEM, DER, raw Ed25519 seed, raw P-256 scalar. */
export function privateKeysIn (c: Candidates): KeyObject[] {
  const keys: KeyObject[] = []
  const attempt = (f: () => KeyObject): void => {
    try {
      const k = f()
      if (k.type === 'private') keys.push(k)
    } catch {}
  }
  for (const o of c.objects) attempt(() => createPrivateKey({ key: o as never, format: 'jwk' }))
  for (const s of c.strings) if (s.includes('PRIVATE KEY')) attempt(() => createPrivateKey(s))
  for (const b of c.buffers) {
    for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) attempt(() => createPrivateKey({ key: b, format: 'der', type }))
    if (b.length === 32) {
      attempt(() => createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, b]), format: 'der', type: 'pkcs8' }))
      attempt(() => {
        const ecdh = createECDH('prime256v1')
        ecdh.setPrivateKey(b)
        const pub = ecdh.getPublicKey()
        return createPrivateKey({
          key: { kty: 'EC', crv: 'P-256', d: b.toString('base64url'), x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33, 65).toString('base64url') },
          format: 'jwk'
        })
      })
    }
  }
  return keys
}

/** HMAC-SHA256 under every candidate buffer, and unkeyed hashes, of `message`: what an offline check could compute. */
export function offlineDigests (c: Candidates, message: string): Set<string> {
  const out = new Set<string>()
  const both = (d: Buffer): void => { out.add(d.toString('base64url')); out.add(d.toString('hex')); out.add(d.toString('base64')) }
  for (const alg of ['sha256', 'sha512', 'sha1', 'md5']) both(createHash(alg).update(message).digest())
  for (const key of c.buffers) both(createHmac('sha256', key).update(message).digest())
  return out
}
