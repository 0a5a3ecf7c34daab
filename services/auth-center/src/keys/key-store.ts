import type { KeySet } from './key-set.js'
import type { KeySetCodec, SealedWith } from './sealed-key-set.js'

/**
 * Where the key set lives. Files under AUTH_DATA_DIR for one instance; PostgreSQL
 * (DATABASE_URL) or else Redis when several replicas must sign with the same keys. Either way the key set is stored
 * sealed under the KEK (sealed-key-set.ts): the store is the one place key material
 * is read and written, so every key, present or future, is sealed.
 */
export interface KeyStore {
  readonly kind: 'file' | 'redis' | 'postgres'
  /** Where, for messages: the file's path, the Redis key or the table row. */
  readonly where: string
  /** The stored key set, opened; one written in clear by an earlier version is sealed on the way. */
  load (): Promise<KeySet | null>
  /** Writes the first key set unless one exists; returns whichever is stored. */
  init (set: KeySet): Promise<KeySet>
  /** Replaces `expectedRevision` with `next`; false when someone else changed it first. */
  replace (expectedRevision: number, next: KeySet): Promise<boolean>
  /**
   * Writes `set` whatever is stored, even what no configured KEK opens: for the mirror,
   * a copy of the primary, so a replica whose local copy is still sealed under a retired
   * KEK starts, and refreshes the copy, instead of failing.
   */
  copy (set: KeySet): Promise<void>
  /**
   * Seals the stored key set again under the current KEK (kek:rotate), keeping its
   * revision. Returns what sealed it before, or null when nothing is stored.
   */
  reseal (): Promise<SealedWith | null>
}

/**
 * What a backend gives: its storage primitives, each sealing (`codec.encode`) what it
 * writes and opening (`codec.decode`) what it reads. The protocol on top (sealing a
 * clear set on load, insert-then-load, re-sealing under compare-and-set) is the same
 * for every backend, so it is written once in keyStoreOver.
 */
export interface KeyStorePrimitives {
  readonly kind: KeyStore['kind']
  readonly where: string
  /** The codec the primitives seal with: re-sealing is skipped when its current KEK sealed the stored set. */
  readonly codec: KeySetCodec
  /** The stored key set, opened, or null when none is stored. */
  read (): Promise<{ set: KeySet, sealedWith: SealedWith } | null>
  /** Stores `set` unless a key set is stored already (then leaves that one). */
  insertIfAbsent (set: KeySet): Promise<void>
  /** Compare-and-set on the revision: stores `next` only while the stored set (if any) has `expectedRevision`. */
  replace (expectedRevision: number, next: KeySet): Promise<boolean>
  /** Stores `set` whatever is stored. */
  write (set: KeySet): Promise<void>
}

/** The key store protocol over one backend's primitives. */
export function keyStoreOver ({ kind, where, codec, read, insertIfAbsent, replace, write }: KeyStorePrimitives): KeyStore {
  async function load (): Promise<KeySet | null> {
    const found = await read()
    if (found === null) return null
    // Written in clear by a version before sealing (or copied so from an older store): seal it now rather than keep it so.
    if (found.sealedWith === 'clear') await replace(found.set.revision, found.set)
    return found.set
  }

  return {
    kind,
    where,
    load,
    async init (set) {
      await insertIfAbsent(set)
      return (await load()) ?? set
    },
    replace,
    copy: write,
    async reseal () {
      // Retried when a rotation by another process lands in between (it changed the revision).
      for (let attempt = 0; attempt < 5; attempt++) {
        const found = await read()
        if (found === null) return null
        if (found.sealedWith === codec.keks.current.id || await replace(found.set.revision, found.set)) return found.sealedWith
      }
      throw new Error(`${where}: re-sealing kept conflicting with another writer`)
    }
  }
}
