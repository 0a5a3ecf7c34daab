import type { TokenErrorCode } from './errors.js'

/**
 * What a verifier reports for monitoring, to hooks the service registers (e.g. to wire
 * prom-client counters). Every hook is optional; without `metrics` the verifier does no
 * extra work at all (the verify function is not even wrapped). Hooks run synchronously on
 * the verify path: keep them to a counter increment.
 *
 * Feed staleness is read, not pushed: `verifier.revocation.staleSince` at scrape time.
 */
export interface VerifierMetrics {
  /** Once per verify call: `'OK'`, the refusal's code, or `'ERROR'` for anything else thrown (a bug, not a refusal). */
  onVerify?: (outcome: 'OK' | TokenErrorCode | 'ERROR') => void
  /** Once per lookup in the verified-token cache (not called with `cache: false`). */
  onCache?: (hit: boolean) => void
  /** After each metadata + JWKS load: `true` when it succeeded. */
  onJwksFetch?: (ok: boolean) => void
}

const HOOKS = ['onVerify', 'onCache', 'onJwksFetch'] as const

/** Checks the `metrics` option; throws a `TypeError` naming the bad hook. */
export function checkMetrics (metrics: unknown): VerifierMetrics | undefined {
  if (metrics === undefined) return undefined
  if (typeof metrics !== 'object' || metrics === null) throw new TypeError('"metrics" must be an object of hooks')
  for (const name of HOOKS) {
    const hook = (metrics as Record<string, unknown>)[name]
    if (hook !== undefined && typeof hook !== 'function') throw new TypeError(`"metrics.${name}" must be a function`)
  }
  return metrics as VerifierMetrics
}
