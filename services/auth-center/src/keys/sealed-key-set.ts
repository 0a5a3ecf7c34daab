import { isKeySet, type KeySet } from './key-set.js'
import type { KekRing } from './kek.js'
import { isSealedBlob, seal, unseal, type SealedBlob } from './seal.js'

/**
 * The key set as stored: the whole document (signing keys, MAC keys, and whatever a
 * later version adds to KeySet) sealed as one blob, so no key can be stored in clear
 * by forgetting to seal a new field. Only the revision stays readable: replicas and
 * the Redis compare-and-set compare it without the KEK. It is bound into the
 * additional data, so it cannot be changed without the blob failing to open.
 */
export interface StoredKeySet {
  version: 2
  revision: number
  sealed: SealedBlob
}

/** 'clear' for a key set written by a version before sealing (migrated on first start). */
export type SealedWith = string | 'clear'

export interface KeySetCodec {
  readonly keks: KekRing
  encode (set: KeySet): string
  /** Throws KekError when no configured KEK opens it, Error when it is not a key set at all. */
  decode (text: string, where: string): { set: KeySet, sealedWith: SealedWith }
}

const purpose = (revision: number): string => `key-set@${revision}`

export function keySetCodec (keks: KekRing): KeySetCodec {
  return {
    keks,
    encode (set) {
      const doc: StoredKeySet = { version: 2, revision: set.revision, sealed: seal(keks.current, purpose(set.revision), Buffer.from(JSON.stringify(set))) }
      return JSON.stringify(doc)
    },
    decode (text, where) {
      const parsed: unknown = JSON.parse(text)
      if (isKeySet(parsed)) return { set: parsed, sealedWith: 'clear' }
      const doc = parsed as Partial<StoredKeySet>
      if (doc.version !== 2 || typeof doc.revision !== 'number' || !isSealedBlob(doc.sealed)) {
        throw new Error(`${where} is not a key set written by authcenter`)
      }
      const set: unknown = JSON.parse(unseal(keks, purpose(doc.revision), doc.sealed, where).toString('utf8'))
      if (!isKeySet(set) || set.revision !== doc.revision) throw new Error(`${where} holds a sealed value that is not its key set`)
      return { set, sealedWith: doc.sealed.kek }
    }
  }
}
