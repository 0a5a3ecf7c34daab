// The entry format of docs/revocation-protocol.md, reader side, shared by the list and
// the transports: `<field>=<value>` with field `s:<sid>` or `u:<userId>` and value
// `<revokedAtMs>:<expiresAtMs>[:<exceptSid>]`; the epoch `<createdAtMs>:<random>`.

const DIGITS = /^\d{1,16}$/

// Session expiries are kept as whole seconds after this base (rounded up), which fit
// V8 small integers: a Map<string, number> of 1,000,000 sessions then holds no boxed doubles.
export const BASE_MS = Date.UTC(2025, 0, 1)
export const toSeconds = (ms: number): number => Math.ceil((ms - BASE_MS) / 1000)

export interface DenyValue {
  revokedAtMs: number
  expiresAtMs: number
  exceptSid: string | undefined
}

/** `<revokedAtMs>:<expiresAtMs>[:<exceptSid>]`, or `undefined` when malformed. */
export function parseValue (value: string): DenyValue | undefined {
  const c1 = value.indexOf(':')
  if (c1 === -1) return undefined
  const c2 = value.indexOf(':', c1 + 1)
  const revoked = value.slice(0, c1)
  const expires = c2 === -1 ? value.slice(c1 + 1) : value.slice(c1 + 1, c2)
  if (!DIGITS.test(revoked) || !DIGITS.test(expires)) return undefined
  const except = c2 === -1 ? '' : value.slice(c2 + 1)
  return { revokedAtMs: Number(revoked), expiresAtMs: Number(expires), exceptSid: except === '' ? undefined : except }
}

/** The epoch's creation time in ms; throws when malformed. */
export function parseEpoch (epoch: string): number {
  const colon = epoch.indexOf(':')
  const created = colon === -1 ? epoch : epoch.slice(0, colon)
  if (!DIGITS.test(created)) throw new Error('the store epoch is malformed (expected "<createdAtMs>:<random>")')
  return Number(created)
}

/**
 * A flat copy of a substring. V8 keeps a substring of 13+ characters as a view that
 * holds its whole parent alive (here the message or hash field); a Map of 1,000,000
 * such keys would keep every parent. The latin1 round trip copies (ids are ASCII);
 * anything else stays as is, so no id is ever altered.
 */
export function flat (value: string): string {
  if (value.length < 13) return value
  const copy = Buffer.from(value, 'latin1').toString('latin1')
  return copy === value ? copy : value
}

export function withTimeout<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export function errorInfo (err: unknown): Record<string, unknown> {
  return { err: err instanceof Error ? err.message : String(err) }
}

/** Each network step of a load (a request, SUBSCRIBE, GET, one HSCAN page) must answer within this. */
export const STEP_TIMEOUT_MS = 5_000

/** Retry delays after failures: 100 ms doubling, at most this. */
export const MAX_RETRY_MS = 5_000
export const retryDelay = (attempt: number): number => Math.min(100 * 2 ** (attempt - 1), MAX_RETRY_MS)
