import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Who may scrape GET /metrics: `token` (METRICS_TOKEN) set, only `Authorization: Bearer
 * <token>`; in production without a token the endpoint does not exist unless
 * METRICS_PUBLIC=true; outside production without a token, anyone who reaches the port.
 */
export type MetricsAccess = { mode: 'token', token: string } | { mode: 'open' } | { mode: 'off' }

export function metricsAccess (config: { production: boolean, metricsToken?: string | undefined, metricsPublic: boolean }): MetricsAccess {
  if (config.metricsToken !== undefined) return { mode: 'token', token: config.metricsToken }
  if (config.production && !config.metricsPublic) return { mode: 'off' }
  return { mode: 'open' }
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/** Constant-time check of an Authorization header against the token (hashed first: equal lengths, no length leak). */
export function bearerMatches (header: string | undefined, token: string): boolean {
  if (header === undefined) return false
  const m = /^bearer +(\S+)$/i.exec(header)
  return timingSafeEqual(digest(m?.[1] ?? ''), digest(token)) && m !== null
}
