import type { KeySet } from './key-set.js'
import type { SealedWith } from './sealed-key-set.js'

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
