import type { ClientStore, StoredClient } from './clients.js'
import { redisPrefix, type RedisClient } from '../redis/client.js'
import { io } from '../redis/script.js'

export interface RedisClientsOptions {
  /** Prepended to every key (default `ac:`). */
  prefix?: string
}

/**
 * Registered OAuth2 clients in Redis. Key layout (prefix `ac:`; `{…}` is the Cluster hash tag):
 *
 * | key                          | type   | TTL                             |
 * |------------------------------|--------|---------------------------------|
 * | `ac:client:{<id>}`           | string | none (the registration, JSON)   |
 * | `ac:client:{<id>}:sessions`  | set    | none (its grants' session ids)  |
 * | `ac:clients`                 | set    | none (every client id)          |
 *
 * A client's value and its grants share a slot; the index `ac:clients` does not
 * (Cluster), so it is written after the value and removed after it, and a listed id
 * without a value is skipped.
 */
export function createRedisClients (client: RedisClient, opts: RedisClientsOptions = {}): ClientStore {
  const key = clientKeys(redisPrefix(opts.prefix, 'createRedisClients'))

  return {
    async putClient (stored, opts = {}) {
      const json = JSON.stringify(stored)
      const ok = await io(async () => opts.ifAbsent === true
        ? await client.set(key.client(stored.clientId), json, 'NX')
        : await client.set(key.client(stored.clientId), json))
      if (ok !== 'OK') return false
      await io(async () => await client.sadd(key.clients, stored.clientId))
      return true
    },

    async getClient (clientId) {
      const raw = await io(async () => await client.get(key.client(clientId)))
      return raw === null ? null : JSON.parse(raw) as StoredClient
    },

    async listClients () {
      const ids = (await io(async () => await client.smembers(key.clients))).sort()
      const raws = await io(async () => await Promise.all(ids.map(async (id) => await client.get(key.client(id)))))
      return raws.flatMap((raw) => raw === null ? [] : [JSON.parse(raw) as StoredClient])
    },

    async deleteClient (clientId) {
      const n = await io(async () => await client.del(key.client(clientId)))
      await io(async () => await client.srem(key.clients, clientId))
      return n > 0
    },

    async addClientSession (clientId, sessionId) {
      await io(async () => await client.sadd(key.clientSessions(clientId), sessionId))
    },

    async takeClientSessions (clientId) {
      const res = await io(async () => await client.multi().smembers(key.clientSessions(clientId)).del(key.clientSessions(clientId)).exec())
      const ids = res?.[0]?.[1]
      return Array.isArray(ids) ? ids as string[] : []
    }
  }
}

function clientKeys (prefix: string) {
  return {
    client: (clientId: string) => `${prefix}client:{${clientId}}`,
    clientSessions: (clientId: string) => `${prefix}client:{${clientId}}:sessions`,
    clients: `${prefix}clients`
  }
}
