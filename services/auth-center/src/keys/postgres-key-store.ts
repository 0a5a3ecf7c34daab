import type { Postgres } from '../store/postgres/pool.js'
import { keyStoreOver, type KeyStore } from './key-store.js'
import type { KeySetCodec } from './sealed-key-set.js'

// Inserts the first set, or replaces the stored one only while it still has the expected
// revision: one statement, so of two rotations at once exactly one wins.
const REPLACE = `
INSERT INTO ac_keys (name, revision, sealed) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET revision = EXCLUDED.revision, sealed = EXCLUDED.sealed, updated_at = now()
WHERE ac_keys.revision = $4`

/** Keys shared by every auth-center replica through one row of ac_keys (migrations/0003_keys.sql), sealed under the KEK. */
export function createPostgresKeyStore (pg: Postgres, codec: KeySetCodec, name = 'signing'): KeyStore {
  const where = `PostgreSQL table ac_keys, row ${name}`
  return keyStoreOver({
    kind: 'postgres',
    where,
    codec,
    async read () {
      const { rows } = await pg.query<{ sealed: string }>('SELECT sealed FROM ac_keys WHERE name = $1', [name])
      return rows[0] === undefined ? null : codec.decode(rows[0].sealed, where)
    },
    async insertIfAbsent (set) {
      await pg.query('INSERT INTO ac_keys (name, revision, sealed) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [name, set.revision, codec.encode(set)])
    },
    async replace (expectedRevision, next) {
      const { rowCount } = await pg.query(REPLACE, [name, next.revision, codec.encode(next), expectedRevision])
      return rowCount === 1
    },
    async write (set) {
      await pg.query(
        `INSERT INTO ac_keys (name, revision, sealed) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET revision = EXCLUDED.revision, sealed = EXCLUDED.sealed, updated_at = now()`,
        [name, set.revision, codec.encode(set)])
    }
  })
}
