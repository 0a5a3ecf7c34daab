import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { isStoreFailure } from '../errors-handler.js'

/** Why an SMS code was not sent: a bounded set, so it can be a label. */
export type SmsRefusal =
  | 'country_not_allowed' | 'ip_daily_limit' | 'ip_mobile_daily_limit' | 'mobile_daily_limit'
  | 'global_budget' | 'cooldown' | 'delivery_failed'

/**
 * The auth center's Prometheus metrics, in a registry of its own (one per app, so
 * several apps in one process, as in tests, never share counters). Labels are only
 * ever bounded sets: route patterns, status codes, error codes, revocation reasons,
 * store method names; never a URL, user, session or client.
 */
export interface AuthMetrics {
  readonly registry: Registry
  /** One finished HTTP request. `route` is the route pattern (`/auth/sessions/:id`), `'unmatched'` for 404s. */
  request: (method: string, route: string, status: number, seconds: number) => void
  /** `outcome`: `'success'` or the refusal's error code. */
  login: (outcome: string) => void
  refresh: (outcome: string) => void
  /** A refresh token presented a second time (the session is revoked). */
  reuseDetected: () => void
  /** `count` sessions revoked for `reason`. */
  revoked: (reason: string, count: number) => void
  smsSent: () => void
  smsRefused: (reason: SmsRefusal) => void
  /** One store call: its method, how long it took, whether it failed. */
  storeCall: (operation: string, seconds: number, failed: boolean) => void
  /** Time from a revocation's write in the store's feed log to its fan-out to the streams. */
  feedLag: (seconds: number) => void
  /** Read at scrape time: the open revocation-feed streams (connected verifiers). */
  setFeedStreams: (read: () => number) => void
}

// Fast paths are sub-millisecond; Argon2-style password hashes take hundreds of ms.
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1]

export function createAuthMetrics (): AuthMetrics {
  const registry = new Registry()
  const registers = [registry]
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by route pattern and status', labelNames: ['method', 'route', 'status_code'] as const, registers })
  const duration = new Histogram({ name: 'http_request_duration_seconds', help: 'HTTP request latency, by route pattern and status', labelNames: ['method', 'route', 'status_code'] as const, buckets: HTTP_BUCKETS, registers })
  const logins = new Counter({ name: 'authcenter_logins_total', help: 'POST /auth/login attempts, by outcome (success or the error code)', labelNames: ['outcome'] as const, registers })
  const refreshes = new Counter({ name: 'authcenter_refreshes_total', help: 'Refresh-token rotations (POST /auth/refresh and the OAuth refresh_token grant), by outcome', labelNames: ['outcome'] as const, registers })
  const reuse = new Counter({ name: 'authcenter_refresh_token_reuse_total', help: 'Refresh tokens presented again after rotation (each revokes its session)', registers })
  const revocations = new Counter({ name: 'authcenter_revocations_total', help: 'Sessions revoked, by reason', labelNames: ['reason'] as const, registers })
  const smsSent = new Counter({ name: 'authcenter_sms_sent_total', help: 'Login codes handed to the SMS sender', registers })
  const smsRefused = new Counter({ name: 'authcenter_sms_refused_total', help: 'Login codes not sent, by reason', labelNames: ['reason'] as const, registers })
  const storeDuration = new Histogram({ name: 'authcenter_store_operation_duration_seconds', help: 'Store call latency, by store method', labelNames: ['operation'] as const, buckets: STORE_BUCKETS, registers })
  const storeErrors = new Counter({ name: 'authcenter_store_errors_total', help: 'Store calls that failed, by store method', labelNames: ['operation'] as const, registers })
  const lag = new Histogram({ name: 'authcenter_revocation_feed_lag_seconds', help: 'From a revocation entering the feed log to its fan-out to the feed streams', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers })
  let readStreams = (): number => 0
  // eslint-disable-next-line no-new
  new Gauge({ name: 'authcenter_revocation_feed_streams', help: 'Open revocation-feed streams (connected verifiers)', registers, collect () { this.set(readStreams()) } })

  return {
    registry,
    request (method, route, status, seconds) {
      const labels = { method, route, status_code: status }
      requests.inc(labels)
      duration.observe(labels, seconds)
    },
    login: (outcome) => { logins.inc({ outcome }) },
    refresh: (outcome) => { refreshes.inc({ outcome }) },
    reuseDetected: () => { reuse.inc() },
    revoked: (reason, count) => { if (count > 0) revocations.inc({ reason }, count) },
    smsSent: () => { smsSent.inc() },
    smsRefused: (reason) => { smsRefused.inc({ reason }) },
    storeCall (operation, seconds, failed) {
      storeDuration.observe({ operation }, seconds)
      if (failed) storeErrors.inc({ operation })
    },
    feedLag: (seconds) => { lag.observe(Math.max(0, seconds)) },
    setFeedStreams: (read) => { readStreams = read }
  }
}

const CODE = /^[A-Z][A-Z0-9_]{1,63}$/

/** The label for a refusal: its error code (a bounded set, the errors registry), `STORE_UNAVAILABLE` for a store outage, else `ERROR`. */
export function outcomeOf (err: unknown): string {
  if (err instanceof Error && isStoreFailure(err)) return 'STORE_UNAVAILABLE'
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && CODE.test(code) ? code : 'ERROR'
}
