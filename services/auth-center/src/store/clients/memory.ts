import type { ClientStore, StoredClient } from './clients.js'

/**
 * Registered OAuth2 clients in this process, kept as JSON like the Redis driver keeps
 * them (so a caller's object is never shared), and the index of their grants' sessions.
 */
export function createMemoryClients (): ClientStore {
  const storedClients = new Map<string, string>()
  const clientSessions = new Map<string, Set<string>>()

  return {
    async putClient (client, opts = {}) {
      if (opts.ifAbsent === true && storedClients.has(client.clientId)) return false
      storedClients.set(client.clientId, JSON.stringify(client))
      return true
    },

    async getClient (clientId) {
      const raw = storedClients.get(clientId)
      return raw === undefined ? null : JSON.parse(raw) as StoredClient
    },

    async listClients () {
      return [...storedClients.keys()].sort().map((id) => JSON.parse(storedClients.get(id)!) as StoredClient)
    },

    async deleteClient (clientId) {
      return storedClients.delete(clientId)
    },

    async addClientSession (clientId, sessionId) {
      let ids = clientSessions.get(clientId)
      if (ids === undefined) {
        ids = new Set()
        clientSessions.set(clientId, ids)
      }
      ids.add(sessionId)
    },

    async takeClientSessions (clientId) {
      const ids = [...(clientSessions.get(clientId) ?? [])]
      clientSessions.delete(clientId)
      return ids
    }
  }
}
