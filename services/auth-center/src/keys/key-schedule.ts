import { ID_TOKEN_TTL_MS, currentKey, freshKeys, prune, signsFrom, type KeySet, type SigningAlg, type StoredKey } from './key-set.js'

/**
 * How long a scheduled key is published before it signs: verifiers cache the JWKS for
 * up to 10 minutes (the verifier's cacheMaxAge) and replicas pick up a new key set
 * within seconds, so an hour covers both with room; a short interval (tests) gets half
 * of itself, and verifiers then meet the new kid through their unknown-kid refetch.
 */
export const MAX_PUBLISH_AHEAD_MS = 3_600_000

/** The least time a scheduled key is in the JWKS before it signs. */
export function publishAheadMs (intervalMs: number): number {
  return Math.min(MAX_PUBLISH_AHEAD_MS, Math.floor(intervalMs / 2))
}

/**
 * How often replicas look at the schedule: a fifth of the lead, which is also the
 * margin a key is published with beyond it, so a replica that looks a little late
 * still starts the new key exactly one interval after the last.
 */
export function scheduleTickMs (intervalMs: number): number {
  return Math.max(100, Math.floor(publishAheadMs(intervalMs) / 5))
}

export interface KeySchedule {
  /** AUTH_KEY_ROTATION_INTERVAL: how long each key signs. */
  intervalMs: number
  /** The longest lifetime of a token a key may sign: a retired key stays published that long. */
  maxTokenLifetimeMs: number
}

/**
 * What the schedule changes in `set` at `now`, or null when nothing is due. Pure, so
 * every replica computes the same answer from the same stored set, and the one whose
 * compare-and-set lands first makes the change: one rotation, not one per replica.
 *
 * - A key whose successor has started signing is marked retired (from the moment the
 *   successor took over) and stays published for the longest token lifetime.
 * - Shortly before the current key has signed for `intervalMs - publishAhead`, fresh
 *   keys (the access-token key and the ID-token key) are published, to sign when the
 *   current key's interval is over (and never sooner than `publishAhead` from now).
 */
export function scheduleKeySet (set: KeySet, alg: SigningAlg, now: number, schedule: KeySchedule): KeySet | null {
  let changed = false
  let keys = set.keys.map((k) => {
    if (k.retiredAt !== undefined) return k
    const successor = successorOf(set.keys, k, now)
    if (successor === undefined) return k
    changed = true
    const retiredAt = signsFrom(successor)
    return { ...k, retiredAt, publishUntil: retiredAt + Math.max(schedule.maxTokenLifetimeMs, ID_TOKEN_TTL_MS) }
  })
  const pending = keys.some((k) => k.retiredAt === undefined && signsFrom(k) > now)
  const current = currentKey({ ...set, keys }, now)
  const due = signsFrom(current) + schedule.intervalMs
  const ahead = publishAheadMs(schedule.intervalMs)
  if (!pending && now >= due - ahead - scheduleTickMs(schedule.intervalMs)) {
    // A schedule that fell behind (every replica down, or one very late look) still publishes ahead in full.
    keys.push(...freshKeys(alg, now, Math.max(due, now + ahead)))
    changed = true
  }
  if (!changed) return null
  keys = prune(keys, now)
  return { ...set, revision: set.revision + 1, keys }
}

/** A newer key of the same purpose that has started signing, if any. */
function successorOf (keys: StoredKey[], k: StoredKey, now: number): StoredKey | undefined {
  return keys.find((n) => n !== k && n.purpose === k.purpose && n.retiredAt === undefined &&
    signsFrom(n) > signsFrom(k) && signsFrom(n) <= now)
}
