import type { KeySet } from './key-set.js'

/**
 * Where the key set lives. Files under AUTH_DATA_DIR for one instance; Redis when
 * several replicas must sign with the same keys.
 */
export interface KeyStore {
  readonly kind: 'file' | 'redis'
  load (): Promise<KeySet | null>
  /** Writes the first key set unless one exists; returns whichever is stored. */
  init (set: KeySet): Promise<KeySet>
  /** Replaces `expectedRevision` with `next`; false when someone else changed it first. */
  replace (expectedRevision: number, next: KeySet): Promise<boolean>
}
