import { readFileSync } from 'node:fs'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ConfigError, type Config } from '../config.js'
import { parseDuration } from '../duration.js'
import { DEFAULT_CLIENT_ID, type Client, type TokenPolicy } from './client.js'
import { hashClientSecret } from '../oauth/client-auth.js'
import { OAuthClientFields, toOAuthSettings, type OAuthClientEntry } from '../oauth/client-config.js'
import type { Store, StoredClient } from '../store/store.js'
import { DEV_REVOCATION_CLIENT_ID, devRevocationClient } from '../revocations/dev-client.js'

const Duration = Type.Union([Type.String({ pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)?$' }), Type.Integer({ minimum: 1 })])

export const PolicySchema = Type.Object({
  refresh: Type.Optional(Type.Boolean()),
  accessTtl: Type.Optional(Duration),
  refreshTtl: Type.Optional(Duration),
  sliding: Type.Optional(Type.Object({ idle: Duration, max: Duration }, { additionalProperties: false })),
  binding: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('dpop'), Type.Literal('cookie')])),
  maxSessions: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 }))
}, { additionalProperties: false })

const ClientSchema = Type.Object({
  client_id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
  name: Type.Optional(Type.String({ maxLength: 128 })),
  // confidential, public: third-party OAuth2 clients, with the fields of OAuthClientFields.
  type: Type.Optional(Type.Union([Type.Literal('first-party'), Type.Literal('confidential'), Type.Literal('public')])),
  policy: Type.Optional(PolicySchema),
  ...OAuthClientFields,
  // The file only: the secret itself, hashed at start (the admin API makes its own secrets).
  client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 512 }))
}, { additionalProperties: false })

/**
 * A plain secret in the clients file must be at least this long: what a person types
 * ("hunter2", a passphrase) is refused. SHA-256 is no slow hash, so only a generated
 * secret is safe to keep as one (the README gives the command).
 */
const MIN_FILE_SECRET_LENGTH = 32
const GENERATE_SECRET = `node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`

export const ClientsFileSchema = Type.Object({
  clients: Type.Array(ClientSchema)
}, { additionalProperties: false })

export type ClientsFile = Static<typeof ClientsFileSchema>

/**
 * Two sources: the clients file (fixed at start) and clients registered through the
 * admin API (kept in the store, src/admin/clients.ts). File clients win: an id in the
 * file can never be taken, replaced or deleted through the API.
 *
 * `lookup` (async) is the authoritative one: file first, then the store, and it
 * refreshes this process's copy of the stored client (or drops it when it is gone).
 * The OAuth paths use it (client authentication, authorize, the admin token check,
 * requireSession). `get` (sync) answers from the file and from that copy, which is
 * loaded at start (`sync`), re-read every few seconds and updated by each `lookup`
 * and admin call: the sync callers (token issuance, refresh policy, metadata) run
 * after a `lookup` in the same request, or only need a recent view.
 */
export interface ClientRegistry {
  get (clientId: string): Client | undefined
  all (): Client[]
  lookup (clientId: string): Promise<Client | undefined>
  /** True for the built-in client and the clients of AUTH_CLIENTS_FILE. */
  isFileClient (clientId: string): boolean
  /** Re-reads every stored client into this process's copy. */
  sync (): Promise<void>
  /** After an admin call: the stored client as saved (or undefined once deleted). */
  remember (clientId: string, stored: StoredClient | undefined): Client | undefined
  /** Called once the store exists (build()); before, only file clients are known. */
  attach (store: Store): void
  /** The longest access-token lifetime of the file clients: stored clients may not exceed it (the denylist TTL is fixed at start). */
  readonly maxAccessTtlMs: number
}

/**
 * Clients and their token policies: the built-in `default` client (access + refresh,
 * lifetimes from the environment) plus those of AUTH_CLIENTS_FILE, validated at start.
 * A bad file stops the process with one line naming the field.
 */
export function loadClients (config: Readonly<Config>): ClientRegistry {
  const clients = new Map<string, Client>()
  const defaults = defaultPolicy(config)
  clients.set(DEFAULT_CLIENT_ID, { clientId: DEFAULT_CLIENT_ID, name: 'Default first-party client', type: 'first-party', policy: defaults })
  // Outside production only: the feed reader `pnpm start` wires the user service with (a clients-file entry of that id replaces it).
  if (!config.production) clients.set(DEV_REVOCATION_CLIENT_ID, devRevocationClient(config.audience, defaults))

  if (config.clientsFile !== undefined) {
    for (const c of readClientsFile(config.clientsFile).clients) {
      const client: Client = {
        clientId: c.client_id,
        name: c.name ?? c.client_id,
        type: 'first-party',
        policy: toPolicy(c.policy ?? {}, defaults, c.client_id)
      }
      if (c.type === 'confidential' || c.type === 'public') {
        const where = `AUTH_CLIENTS_FILE: /clients[${c.client_id}]`
        if (c.client_secret !== undefined) c.client_secret_sha256 = fileSecretHash(c, where)
        if (c.policy?.sliding !== undefined || client.policy.binding === 'cookie') {
          throw new ConfigError(`${where}/policy: OAuth2 clients support neither sliding sessions nor cookie binding (use "binding": "dpop")`)
        }
        client.type = 'oauth'
        client.oauth = toOAuthSettings(c as OAuthClientEntry, config.audience, where, config.signingAlg)
      } else if ([...Object.keys(OAuthClientFields), 'client_secret'].some((f) => f in c)) {
        throw new ConfigError(`AUTH_CLIENTS_FILE: /clients[${c.client_id}]: OAuth2 fields need "type": "confidential" or "public"`)
      }
      clients.set(c.client_id, client)
    }
  }
  const stored = new Map<string, Client>()
  let store: Store | undefined
  const toClient = (s: StoredClient | undefined): Client | undefined => {
    if (s === undefined) return undefined
    try {
      return storedToClient(s, config, defaults)
    } catch {
      return undefined
    }
  }
  const registry: ClientRegistry = {
    get: (id) => clients.get(id) ?? stored.get(id),
    all: () => [...clients.values(), ...stored.values()],
    async lookup (id) {
      const file = clients.get(id)
      if (file !== undefined || store === undefined || id === '') return file
      return registry.remember(id, (await store.getClient(id)) ?? undefined)
    },
    isFileClient: (id) => clients.has(id),
    async sync () {
      if (store === undefined) return
      const list = await store.listClients()
      stored.clear()
      for (const s of list) registry.remember(s.clientId, s)
    },
    remember (id, s) {
      if (clients.has(id)) return clients.get(id)
      const client = toClient(s)
      if (client === undefined) stored.delete(id)
      else stored.set(id, client)
      return client
    },
    attach (s) { store = s },
    maxAccessTtlMs: Math.max(...[...clients.values()].map((c) => c.policy.accessTtlMs))
  }
  return registry
}

/** SHA-256 (hex) of a clients-file `client_secret`, after checking it is not one a person chose. Never repeats the secret. */
function fileSecretHash (c: Static<typeof ClientSchema>, where: string): string {
  const fail = (why: string): never => { throw new ConfigError(`${where}/client_secret: ${why}`) }
  if (c.type !== 'confidential') fail('only a confidential client has a secret')
  if (c.client_secret_sha256 !== undefined) fail('give client_secret or client_secret_sha256, not both')
  const secret = c.client_secret!
  if (secret.length < MIN_FILE_SECRET_LENGTH) fail(`too short (${secret.length} characters, at least ${MIN_FILE_SECRET_LENGTH}): generate one with ${GENERATE_SECRET}`)
  return hashClientSecret(secret).toString('hex')
}

/** The first-party defaults a stored client's policy starts from. */
function storedToClient (s: StoredClient, config: Readonly<Config>, defaults: TokenPolicy): Client {
  return registrationToClient(s.registration as RegistrationEntry, config, defaults, `client ${s.clientId}`)
}

/** A clients-file shaped OAuth2 entry (admin API registration, secret as its SHA-256). */
export type RegistrationEntry = OAuthClientEntry & { policy?: Static<typeof PolicySchema> }

/**
 * Builds an OAuth2 client from a registration (clients-file shape). Throws ConfigError
 * naming the field when it is not valid (the admin API answers 400 with the message).
 */
export function registrationToClient (c: RegistrationEntry, config: Readonly<Config>, defaults: TokenPolicy, where: string): Client {
  const policy = toPolicy(c.policy ?? {}, defaults, c.client_id)
  if (c.policy?.sliding !== undefined || policy.binding === 'cookie') {
    throw new ConfigError(`${where}/policy: OAuth2 clients support neither sliding sessions nor cookie binding (use "binding": "dpop")`)
  }
  return {
    clientId: c.client_id,
    name: c.name ?? c.client_id,
    type: 'oauth',
    policy,
    oauth: toOAuthSettings(c, config.audience, where, config.signingAlg)
  }
}

/** The built-in client's policy (lifetimes from the environment), which stored clients start from. */
export function defaultPolicy (config: Readonly<Config>): TokenPolicy {
  return { refresh: true, accessTtlMs: config.accessTtlMs, refreshTtlMs: config.refreshTtlMs, binding: 'none', maxSessions: config.maxSessions }
}

function readClientsFile (path: string): ClientsFile {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new ConfigError(`AUTH_CLIENTS_FILE: cannot read ${path}: ${(err as Error).message.split('\n')[0]}`)
  }
  const first = Value.Errors(ClientsFileSchema, parsed).First()
  if (first !== undefined) throw new ConfigError(`AUTH_CLIENTS_FILE: ${first.path || '/'}: ${first.message}`)
  return parsed as ClientsFile
}

function ms (value: string | number, field: string): number {
  const out = typeof value === 'number' ? value * 1000 : parseDuration(value)
  if (out === undefined) throw new ConfigError(`AUTH_CLIENTS_FILE: ${field}: not a duration`)
  return out
}

function toPolicy (p: Static<typeof PolicySchema>, defaults: TokenPolicy, clientId: string): TokenPolicy {
  const at = (f: string): string => `/clients[${clientId}]/policy/${f}`
  const refresh = p.refresh ?? true
  const policy: TokenPolicy = {
    refresh,
    // A single-token client gets a longer access token by default (1 h).
    accessTtlMs: p.accessTtl !== undefined ? ms(p.accessTtl, at('accessTtl')) : refresh ? defaults.accessTtlMs : 3_600_000,
    refreshTtlMs: p.refreshTtl !== undefined ? ms(p.refreshTtl, at('refreshTtl')) : defaults.refreshTtlMs,
    binding: p.binding ?? 'none',
    maxSessions: p.maxSessions ?? defaults.maxSessions
  }
  if (p.sliding !== undefined) {
    const idleMs = ms(p.sliding.idle, at('sliding/idle'))
    const maxMs = ms(p.sliding.max, at('sliding/max'))
    if (idleMs > maxMs) throw new ConfigError(`AUTH_CLIENTS_FILE: ${at('sliding')}: idle must not exceed max`)
    policy.sliding = { idleMs, maxMs }
  }
  return policy
}
