import type { Postgres } from '../postgres/pool.js'
import type { ClientStore, StoredClient } from './clients.js'

interface ClientRow {
  client_id: string
  created_at: string
  registration: Record<string, unknown>
}

function toClient (row: ClientRow): StoredClient {
  return { clientId: row.client_id, createdAt: Number(row.created_at), registration: row.registration }
}

/**
 * The PostgreSQL ClientStore (migrations/0002_clients.sql): a row per client, and a row
 * per grant made for it, so deleting the client can revoke them. Taking the grants is
 * one DELETE … RETURNING, so two deletions at once never both revoke the same grant.
 */
export function createPostgresClients (pg: Postgres): ClientStore {
  return {
    async putClient (client, opts = {}) {
      const values = [client.clientId, client.createdAt, JSON.stringify(client.registration)]
      if (opts.ifAbsent === true) {
        const { rowCount } = await pg.query(
          'INSERT INTO ac_clients (client_id, created_at, registration) VALUES ($1, $2, $3) ON CONFLICT (client_id) DO NOTHING', values)
        return rowCount === 1
      }
      await pg.query(
        `INSERT INTO ac_clients (client_id, created_at, registration) VALUES ($1, $2, $3)
         ON CONFLICT (client_id) DO UPDATE SET created_at = EXCLUDED.created_at, registration = EXCLUDED.registration`, values)
      return true
    },

    async getClient (clientId) {
      const { rows } = await pg.query<ClientRow>('SELECT client_id, created_at, registration FROM ac_clients WHERE client_id = $1', [clientId])
      return rows[0] === undefined ? null : toClient(rows[0])
    },

    async listClients () {
      // COLLATE "C": by code point, as the other drivers sort, whatever the database's locale.
      const { rows } = await pg.query<ClientRow>('SELECT client_id, created_at, registration FROM ac_clients ORDER BY client_id COLLATE "C"')
      return rows.map(toClient)
    },

    async deleteClient (clientId) {
      const { rowCount } = await pg.query('DELETE FROM ac_clients WHERE client_id = $1', [clientId])
      return rowCount === 1
    },

    async addClientSession (clientId, sessionId) {
      await pg.query('INSERT INTO ac_client_sessions (client_id, session_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [clientId, sessionId])
    },

    async takeClientSessions (clientId) {
      const { rows } = await pg.query<{ session_id: string }>('DELETE FROM ac_client_sessions WHERE client_id = $1 RETURNING session_id', [clientId])
      return rows.map((r) => r.session_id)
    }
  }
}
