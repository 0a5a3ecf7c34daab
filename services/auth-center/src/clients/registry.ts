import { readFileSync } from 'node:fs'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ConfigError, type Config } from '../config.js'
import { parseDuration } from '../duration.js'
import { DEFAULT_CLIENT_ID, type Client, type TokenPolicy } from './client.js'
import { OAuthClientFields, toOAuthSettings, type OAuthClientEntry } from '../oauth/client-config.js'

const Duration = Type.Union([Type.String({ pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)?$' }), Type.Integer({ minimum: 1 })])

const PolicySchema = Type.Object({
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
  ...OAuthClientFields
}, { additionalProperties: false })

export const ClientsFileSchema = Type.Object({
  clients: Type.Array(ClientSchema)
}, { additionalProperties: false })

export type ClientsFile = Static<typeof ClientsFileSchema>

export interface ClientRegistry {
  get (clientId: string): Client | undefined
  all (): Client[]
}

/**
 * Clients and their token policies: the built-in `default` client (access + refresh,
 * lifetimes from the environment) plus those of AUTH_CLIENTS_FILE, validated at start.
 * A bad file stops the process with one line naming the field.
 */
export function loadClients (config: Readonly<Config>): ClientRegistry {
  const clients = new Map<string, Client>()
  const defaults: TokenPolicy = {
    refresh: true,
    accessTtlMs: config.accessTtlMs,
    refreshTtlMs: config.refreshTtlMs,
    binding: 'none',
    maxSessions: config.maxSessions
  }
  clients.set(DEFAULT_CLIENT_ID, { clientId: DEFAULT_CLIENT_ID, name: 'Default first-party client', type: 'first-party', policy: defaults })

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
        if (c.policy?.sliding !== undefined || (client.policy.binding !== 'none')) {
          throw new ConfigError(`${where}/policy: OAuth2 clients support neither sliding sessions nor token binding yet`)
        }
        client.type = 'oauth'
        client.oauth = toOAuthSettings(c as OAuthClientEntry, config.audience, where)
      } else if (Object.keys(OAuthClientFields).some((f) => f in c)) {
        throw new ConfigError(`AUTH_CLIENTS_FILE: /clients[${c.client_id}]: OAuth2 fields need "type": "confidential" or "public"`)
      }
      clients.set(c.client_id, client)
    }
  }
  return {
    get: (id) => clients.get(id),
    all: () => [...clients.values()]
  }
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
