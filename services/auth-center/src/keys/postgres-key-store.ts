import type { Postgres } from '../store/postgres/pool.js'
import type { KeySet } from './key-set.js'
import type { KeyStore } from './key-store.js'
import type { KeySetCodec, SealedWith } from './sealed-key-set.js'

// Inserts the first set, or replaces the stored one only while it still has the expected
// revision: one statement, so of two rotations at once exactly one wins.
const REPLACE = `
INSERT INTO ac_keys (name, revision, sealed) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET revision = EXCLUDED.revision, sealed = EXCLUDED.sealed, updated_at = now()
WHERE ac_keys.revision = $4`

/** Keys shared by every auth-center replica through one row of ac_keys (migrations/0003_keys.sql), sealed under the KEK. */
export function createPostgresKeyStore (pg: Postgres, codec: KeySetCodec, name = 'signing'): KeyStore {
  const where = `PostgreSQL table ac_keys, row ${name}`

  async function read (): Promise<{ set: KeySet, sealedWith: SealedWith } | null> {
    const { rows } = await pg.query<{ sealed: string }>('SELECT sealed FROM ac_keys WHERE name = $1', [name])
    return rows[0] === undefined ? null : codec.decode(rows[0].sealed, where)
  }

  async function replace (expectedRevision: number, next: KeySet): Promise<boolean> {
    const { rowCount } = await pg.query(REPLACE, [name, next.revision, codec.encode(next), expectedRevision])
    return rowCount === 1
  }

  return {
    kind: 'postgres',
    where,
    async load () {
      const found = await read()
      if (found === null) return null
      // Copied in clear from an older store: seal it now rather than keep it so.
      if (found.sealedWith === 'clear') await replace(found.set.revision, found.set)
      return found.set
    },
    async init (set) {
      await pg.query('INSERT INTO ac_keys (name, revision, sealed) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [name, set.revision, codec.encode(set)])
      return (await this.load()) ?? set
    },
    replace,
    async copy (set) {
      await pg.query(
        `INSERT INTO ac_keys (name, revision, sealed) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET revision = EXCLUDED.revision, sealed = EXCLUDED.sealed, updated_at = now()`,
        [name, set.revision, codec.encode(set)])
    },
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
