import Fastify, { type FastifyInstance, type FastifyServerOptions, type RouteOptions } from 'fastify'
import fastifyRedis from '@fastify/redis'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import adminRoutes from './admin/routes.js'
import bearer from './auth/bearer.js'
import clientIpPlugin, { trustProxyOption } from './auth/client-ip.js'
import { createHashSlots } from './auth/hash-slots.js'
import { loadClients } from './clients/registry.js'
import { ADMIN_SCOPE } from './oauth/scopes.js'
import { ConfigError, type Config } from './config.js'
import type { Deps } from './context.js'
import { installErrorHandler } from './errors-handler.js'
import { lifecyclePlugin, metricsAccess, metricsPlugin, securityHeaders } from '@authcenter/service-kit'
import { MetricsUnauthorizedError, NotFoundError } from './errors.js'
import openapi from './openapi/plugin.js'
import { KeyRing } from './keys/key-ring.js'
import { instrumentStore } from './metrics/instrument-store.js'
import { createAuthMetrics } from './metrics/metrics.js'
import { keyStores } from './keys/key-stores.js'
import healthRoutes from './routes/health.js'
import loginRoute from './routes/login.js'
import logoutRoute from './routes/logout.js'
import passwordRoute from './routes/password.js'
import refreshRoute from './routes/refresh.js'
import sessionsRoutes from './routes/sessions.js'
import slideRoute from './routes/slide.js'
import smsCodeRoute from './routes/sms-code.js'
import wellKnownRoutes from './routes/well-known.js'
import oauthRoutes from './oauth/routes.js'
import revocationRoutes from './revocations/routes.js'
import { createConsoleSender } from './sms/console-sender.js'
import type { SmsSender } from './sms/sender.js'
import { createWebhookSender } from './sms/webhook-sender.js'
import { DENYLIST_PRUNE_INTERVAL_MS, createRevocationFeed, denyTtlMs, type RevocationFeed } from './sessions/revocation-feed.js'
import { createMemoryStore } from './store/memory-store.js'
import { createRedisStore, redisClientOptions } from './store/redis-store.js'
import { createPostgresStore } from './store/postgres-store.js'
import { migrate } from './store/postgres/migrate.js'
import { createPostgres, type Postgres } from './store/postgres/pool.js'
import { startEventRetention } from './store/events/retention.js'
import { watchConnection } from './store/redis/connection.js'
import type { RedisClient } from './store/redis/client.js'
import { RedisTargetError, connectRedis, describeRedisTarget, connectMasters, whenReady } from './store/redis-target.js'
import type { Store } from './store/store.js'

export { loadConfig, ConfigError, type Config } from './config.js'
export type { Store, Denylist, RevocationListener } from './store/store.js'
export { createRevocationFeed, type RevocationFeed } from './sessions/revocation-feed.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The revocation feed in process (`{load, subscribe}`), for a verifier in the same
     * process: with the memory store it is the only feed there is.
     */
    revocationFeed: RevocationFeed
  }
}

/** How often clients registered through the admin API are re-read from the store. */
const CLIENT_SYNC_INTERVAL_MS = 5_000

export interface BuildOptions {
  /** Fastify logger option (default: pino at config.logLevel, with secrets redacted). */
  logger?: FastifyServerOptions['logger']
  /** Where the default logger writes (default stdout); tests read it to prove secrets never appear. */
  logStream?: NodeJS.WritableStream
  /** Replace the configured SMS sender (tests capture codes this way). */
  sms?: SmsSender
  now?: () => number
  /** How often revocation feed streams get a heartbeat (default 5 s; tests shorten it). */
  revocationHeartbeatMs?: number
  /** Called for every route as it is added (test/openapi/document.test.ts checks each one is documented). */
  onRoute?: (route: RouteOptions) => void
}

// Paths pino must never print: tokens, cookies, codes and passwords.
const REDACT = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers.dpop', 'res.headers["set-cookie"]',
  '*.password', '*.new_password', '*.current_password', '*.code', '*.refresh_token', '*.access_token'
]

/** Builds the auth center (never listens: server.ts does). */
export async function build (config: Readonly<Config>, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? {
      level: config.logLevel,
      redact: { paths: REDACT, censor: '[redacted]' },
      ...(opts.logStream !== undefined ? { stream: opts.logStream } : {})
    },
    bodyLimit: 16 * 1024,
    trustProxy: trustProxyOption(config.trustProxy),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } }
  }).withTypeProvider<TypeBoxTypeProvider>()
  if (opts.onRoute !== undefined) app.addHook('onRoute', opts.onRoute)

  installErrorHandler(app)
  // The draining flag /readyz reads, and connections closed once idle during a drain (service-kit's shutdown.ts).
  await app.register(lifecyclePlugin)
  // First, so its onResponse hook times every route; GET /metrics per METRICS_TOKEN / METRICS_PUBLIC.
  const metrics = createAuthMetrics()
  await app.register(metricsPlugin, { metrics, access: metricsAccess(config), unauthorized: MetricsUnauthorizedError })
  await app.register(clientIpPlugin)
  await app.register(securityHeaders, { hsts: config.issuer.startsWith('https:'), notFound: NotFoundError })
  // Before every route: the document is collected from the routes as they are added.
  await app.register(openapi, { issuer: config.issuer })

  const clients = loadClients(config)
  // The admin API is on with AUTH_ADMIN_TOKEN, and also when the clients file has
  // a client allowed the `admin` scope by client credentials (admin-scope tokens only).
  const adminClients = clients.all().some((c) => c.oauth?.scopes.includes(ADMIN_SCOPE) === true && c.oauth.grantTypes.includes('client_credentials'))
  // Denylist entries live until no access token they cover can be alive.
  const denyTtl = denyTtlMs(clients)
  let store: Store
  let postgres: Postgres | undefined
  if (config.databaseUrl !== undefined) {
    // Replicas starting together take turns on an advisory lock; the first applies what is pending.
    const { applied, version } = await migrate(config.databaseUrl)
    app.log.info({ applied: applied.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`), version }, 'postgres: schema migrated')
    postgres = createPostgres(config.databaseUrl, {
      max: config.databasePoolMax,
      onConnectionChange: (up, err) => {
        if (up) app.log.info('postgres: connected again')
        else app.log.warn({ err: err?.message }, 'postgres: connection lost, reconnecting (requests answer 503 STORE_UNAVAILABLE meanwhile)')
      }
    })
  }
  if (config.redis !== undefined) {
    // Built here rather than from a url by @fastify/redis, which can make neither a Cluster nor a Sentinel client; it waits for `ready` and quits it on close.
    const client = connectRedis(config.redis, redisClientOptions)
    // Refused credentials stop the start with one line naming the variable (server.ts), not a 10 s plugin timeout.
    await whenReady(client, config.redis).catch((err: unknown) => {
      throw err instanceof RedisTargetError ? new ConfigError(err.message) : err
    })
    await app.register(fastifyRedis, { client, closeClient: true })
    // @fastify/redis waited for 'ready'; a Cluster's masters are connected too before the listener opens (and /readyz says 200).
    const unanswered = await connectMasters(app.redis as RedisClient)
    if (unanswered.length > 0) app.log.warn({ masters: unanswered }, 'redis cluster: masters not answering at start (their commands answer 503 STORE_UNAVAILABLE until they do)')
    app.log.info({ redis: describeRedisTarget(config.redis), postgres: postgres !== undefined }, postgres !== undefined ? 'store: postgres+redis' : 'store: redis')
    watchConnection(app)
    store = postgres !== undefined
      ? createPostgresStore(postgres, { denyTtlMs: denyTtl, redis: app.redis as RedisClient })
      : createRedisStore(app.redis as RedisClient, { denyTtlMs: denyTtl })
  } else if (postgres !== undefined) {
    app.log.info('store: postgres')
    store = createPostgresStore(postgres, { denyTtlMs: denyTtl })
  } else {
    store = createMemoryStore({ denyTtlMs: denyTtl })
    app.log.warn('neither DATABASE_URL nor REDIS_URL is set: using the memory store, all sessions and accounts are lost on restart')
  }

  // Sealed under AUTH_KEK; a KEK that opens nothing stops the start (KekError), never new keys.
  const { keks: _keks, devKek, ...keyStore } = await keyStores(config, config.redis !== undefined ? app.redis as RedisClient : undefined, postgres)
  if (devKek) app.log.warn('AUTH_KEK is not set: keys are sealed with the published development KEK, which protects nothing; set AUTH_KEK (pnpm --filter @authcenter/auth-center kek:generate) outside development')
  const keys = await KeyRing.open({
    ...keyStore,
    alg: config.signingAlg,
    // A retired key stays published as long as the longest-lived access token any client gets (the denylist's horizon).
    ...(config.keyRotationIntervalMs > 0 ? { schedule: { intervalMs: config.keyRotationIntervalMs, maxTokenLifetimeMs: denyTtl } } : {}),
    onScheduled: (kid, activatesAt) => { app.log.info({ kid, activatesAt: new Date(activatesAt).toISOString() }, 'signing key published ahead of its turn (AUTH_KEY_ROTATION_INTERVAL)') },
    onReloadError: (err) => { app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'reloading the signing keys failed; signing with the keys in memory') }
  }).catch(async (err: unknown) => {
    // Close the connections opened above, so a caller that handles the error is not left with them.
    await store.close().catch(() => {})
    await app.close().catch(() => {})
    throw err
  })

  const sms = opts.sms ?? (config.sms.sender === 'webhook'
    ? createWebhookSender({ url: config.sms.webhookUrl! })
    : createConsoleSender())
  if (sms.name === 'console') app.log.warn('SMS_SENDER=console: login codes are printed on stdout, for development only')

  const passwordSlots = createHashSlots(config.passwordHash)
  // Every store call is timed; the redis connection (watchConnection) and key stores are outside it.
  store = instrumentStore(store, metrics)
  const deps: Deps = { config, store, clients, keys, sms, passwordSlots, log: app.log, metrics, now: opts.now ?? Date.now }
  // Clients registered through the admin API: known to this process from the start, and
  // re-read now and then so that those another replica registered appear in `get` too.
  clients.attach(store)
  await clients.sync()
  const clientSync = setInterval(() => {
    clients.sync().catch((err: unknown) => { app.log.warn({ err }, 'client sync failed') })
  }, CLIENT_SYNC_INTERVAL_MS)
  clientSync.unref()
  app.decorate('deps', deps)

  // The revocation feed: the epoch exists before the first token leaves; expired
  // denylist entries are dropped in the background.
  await store.ensureEpoch(deps.now())
  const pruner = setInterval(() => {
    store.pruneDenylist(deps.now()).catch((err: unknown) => { app.log.warn({ err }, 'denylist prune failed') })
  }, DENYLIST_PRUNE_INTERVAL_MS)
  pruner.unref()
  // Security events past AUDIT_RETENTION_DAYS are deleted hourly (store/events/retention.ts).
  const stopRetention = startEventRetention(store, config.auditRetentionMs, deps.now, app.log)
  app.decorate('revocationFeed', createRevocationFeed(store))

  app.addHook('onClose', async () => {
    clearInterval(pruner)
    stopRetention()
    clearInterval(clientSync)
    keys.close()
    await store.close()
  })

  await app.register(bearer)
  await app.register(healthRoutes)
  await app.register(wellKnownRoutes)
  await app.register(smsCodeRoute)
  await app.register(loginRoute)
  await app.register(refreshRoute)
  await app.register(logoutRoute)
  await app.register(passwordRoute)
  await app.register(sessionsRoutes)
  await app.register(oauthRoutes)
  await app.register(slideRoute)
  await app.register(revocationRoutes, opts.revocationHeartbeatMs !== undefined ? { heartbeatMs: opts.revocationHeartbeatMs } : {})
  // AUTH_ADMIN_TOKEN unset and no admin client in the clients file: the admin API is off,
  // its routes do not exist (404). See README "Admin API".
  if (config.adminToken !== undefined || adminClients) {
    await app.register(adminRoutes, config.adminToken !== undefined ? { token: config.adminToken } : {})
  }
  return app
}
