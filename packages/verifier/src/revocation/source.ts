import type { RevocationLogger } from './options.js'

/**
 * What a transport feeds: the list of list.ts. A transport calls `replace` with a
 * complete load, `add` with each live entry, `resumed` when it is complete again without
 * a reload (a stream resumed from its cursor), `stale` when entries may be missing from
 * now on, `failed` after an attempt that failed (it retries by itself).
 */
export interface RevocationSink {
  /** The epoch of the list in use; `undefined` before the first load. */
  readonly epoch: string | undefined
  readonly closed: boolean
  readonly log: RevocationLogger
  /** Replaces the whole list: the store epoch and every entry as `<field>=<value>`. */
  replace (epoch: string, entries: Iterable<string>): void
  /** One live entry, `<field>=<value>`. */
  add (message: string): void
  resumed (): void
  stale (reason: string): void
  failed (err: unknown, attempt: number, retryInMs: number): void
  /** The transport cannot work at all (e.g. ioredis missing): `ready()` rejects with it. */
  fatal (err: Error): void
}

/**
 * One way of following the feed (STYLE.md: the list stays one, transports are many):
 * the HTTP feed of the auth center (http-feed.ts, the default), Redis as an ACL-restricted
 * user (redis.ts), or an in-process feed (in-process.ts, for tests and embedding).
 */
export interface RevocationSource {
  start (sink: RevocationSink): void
  close (): void
}
