import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Verifier, VerifierMetrics } from '@authcenter/verifier'

/**
 * This service's Prometheus metrics, in a registry of its own (one per app): HTTP
 * requests by route pattern, and the verifier's, fed by its hooks (`hooks`, passed to
 * createVerifier) and read from its revocation state at scrape time (`watch`).
 */
export interface ServiceMetrics {
  readonly registry: Registry
  /** `route`: the route pattern (`/avatars/:name`), `'unmatched'` for 404s. */
  request: (method: string, route: string, status: number, seconds: number) => void
  readonly hooks: Required<VerifierMetrics>
  /** Reads the verifier's revocation list (staleness, entries) at each scrape. */
  watch: (verifier: Verifier) => void
}

const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

export function createServiceMetrics (): ServiceMetrics {
  const registry = new Registry()
  const registers = [registry]
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by route pattern and status', labelNames: ['method', 'route', 'status_code'] as const, registers })
  const duration = new Histogram({ name: 'http_request_duration_seconds', help: 'HTTP request latency, by route pattern and status', labelNames: ['method', 'route', 'status_code'] as const, buckets: HTTP_BUCKETS, registers })
  const verifications = new Counter({ name: 'verifier_verifications_total', help: 'Access tokens verified, by outcome (OK or the refusal code)', labelNames: ['outcome'] as const, registers })
  const cache = new Counter({ name: 'verifier_cache_lookups_total', help: 'Verified-token cache lookups, by result (hit ratio: hit / all)', labelNames: ['result'] as const, registers })
  const jwks = new Counter({ name: 'verifier_jwks_fetches_total', help: 'Metadata + JWKS loads, by result', labelNames: ['result'] as const, registers })
  let verifier: Verifier | undefined
  new Gauge({ // eslint-disable-line no-new
    name: 'verifier_revocation_stale_seconds',
    help: 'How long the revocation list has not been known complete (0 while fresh)',
    registers,
    collect () {
      const since = verifier?.revocation?.staleSince
      this.set(since === undefined ? 0 : (Date.now() - since) / 1000)
    }
  })
  new Gauge({ // eslint-disable-line no-new
    name: 'verifier_revocation_entries',
    help: 'Revocation entries held in memory (sessions + users)',
    registers,
    collect () { this.set(verifier?.revocation?.size ?? 0) }
  })

  return {
    registry,
    request (method, route, status, seconds) {
      const labels = { method, route, status_code: status }
      requests.inc(labels)
      duration.observe(labels, seconds)
    },
    hooks: {
      onVerify: (outcome) => { verifications.inc({ outcome }) },
      onCache: (hit) => { cache.inc({ result: hit ? 'hit' : 'miss' }) },
      onJwksFetch: (ok) => { jwks.inc({ result: ok ? 'ok' : 'error' }) }
    },
    watch: (v) => { verifier = v }
  }
}
