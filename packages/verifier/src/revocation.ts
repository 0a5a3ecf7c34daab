// The revocation feed, reader side (docs/revocation-protocol.md). The list (entries,
// epoch, fail-closed state) is revocation/list.ts; each way of following the feed is a
// transport behind one RevocationSource (revocation/source.ts): the auth center's HTTP
// feed (the default), Redis as an ACL-restricted user, or an in-process feed.
import { httpFeedSource } from './revocation/http-feed.js'
import { inProcessSource } from './revocation/in-process.js'
import { RevocationList } from './revocation/list.js'
import type { InProcessFeed, ResolvedRevocationOptions } from './revocation/options.js'
import { redisSource } from './revocation/redis.js'
import type { RevocationSource } from './revocation/source.js'

export { resolveRevocationOptions } from './revocation/options.js'
export type {
  InProcessFeed, RedisLike, RedisSubscriberLike, ResolvedRevocationOptions, RevocationLogger, RevocationOptions
} from './revocation/options.js'
export type { RevocationSink, RevocationSource } from './revocation/source.js'
export type { RevocationState, RevocationSubject } from './revocation/list.js'
export { RevocationList } from './revocation/list.js'

/** The list, fed by the transport the options name. `issuer` locates the HTTP feed (its metadata). */
export function createRevocationList (opts: ResolvedRevocationOptions, issuer: string): RevocationList {
  let source: RevocationSource
  if (opts.http !== undefined) {
    source = httpFeedSource({ issuer, ...opts.http })
  } else if (opts.redis !== undefined) {
    source = redisSource(opts)
  } else {
    const given = opts.source!
    source = 'start' in given ? given : inProcessSource(given as InProcessFeed)
  }
  return new RevocationList(opts, source)
}
