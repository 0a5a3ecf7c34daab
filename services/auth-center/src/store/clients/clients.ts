/**
 * OAuth2 clients registered through the admin API, and the grants made for them (see ../store.ts). Durable.
 * Drivers: memory.ts (createMemoryClients), redis.ts (createRedisClients, with the key layout);
 * contract: test/store/clients.contract.ts.
 */

/**
 * An OAuth2 client registered through the admin API. `registration` is the clients-file
 * shaped entry (client_secret_sha256 in hex, never the secret); the store does not read it.
 */
export interface StoredClient {
  clientId: string
  createdAt: number
  registration: Record<string, unknown>
}

export interface ClientStore {
  // ---- OAuth2 clients registered through the admin API (src/admin/clients.ts) ----
  // Grants made for a stored client are indexed so that deleting the client can revoke them.
  /** Saves a client; with `ifAbsent`, only when no client has that id (false: it exists). */
  putClient (client: StoredClient, opts?: { ifAbsent?: boolean }): Promise<boolean>
  getClient (clientId: string): Promise<StoredClient | null>
  /** Every stored client, by client id. */
  listClients (): Promise<StoredClient[]>
  /** True when there was one. Leaves the session index (see takeClientSessions). */
  deleteClient (clientId: string): Promise<boolean>
  /** Remembers that a session (a grant) belongs to a stored client. */
  addClientSession (clientId: string, sessionId: string): Promise<void>
  /** Atomic read-and-clear of the client's session index. */
  takeClientSessions (clientId: string): Promise<string[]>
  // ---- end of OAuth2 clients ----

}
