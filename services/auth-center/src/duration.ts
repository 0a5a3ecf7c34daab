const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * Parses a lifetime written as seconds (`120`) or with a unit (`2m`, `15d`, `500ms`)
 * into milliseconds. Returns undefined for anything else so the caller can name the
 * variable in its error.
 */
export function parseDuration (value: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value)
  if (m === null) return undefined
  const n = Number(m[1]) * UNITS[m[2] ?? 's']!
  return Number.isFinite(n) && n > 0 ? Math.round(n) : undefined
}
