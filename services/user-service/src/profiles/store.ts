/**
 * What this service keeps about a user: the rest (mobile, password, sessions)
 * is the auth center's. `id` is the access token's `sub`.
 */
export interface Profile {
  readonly id: string
  readonly username: string | null
  /** Stored file name in the avatar storage (not a URL), or null. */
  readonly avatar: string | null
  /** ISO 8601 time of the last change. */
  readonly updatedAt: string
}

/** The fields `upsert` may change; an absent field is left as it is. */
export interface ProfilePatch {
  readonly username?: string | null
  readonly avatar?: string | null
}

export interface UpsertResult {
  /** The profile before this change, or null when the user had none. */
  readonly before: Profile | null
  /** The profile as stored now. */
  readonly after: Profile
}

/**
 * Where profiles live. Two drivers pass the same contract suite
 * (`test/profiles/store.contract.ts`): memory and Redis.
 *
 * `upsert` is atomic: `before` is exactly the state it replaced, so a caller
 * can clean up what the change made obsolete (the previous avatar file)
 * without racing another request of the same user.
 *
 * A driver that cannot reach its backend rejects with `StoreUnavailableError`
 * within a bounded time.
 *
 * @example
 * const { before, after } = await store.upsert('42', { avatar: 'abc.png' })
 * if (before?.avatar) await avatars.remove(before.avatar)
 */
export interface ProfileStore {
  get (userId: string): Promise<Profile | null>
  upsert (userId: string, patch: ProfilePatch): Promise<UpsertResult>
}

/** An empty profile: what `GET /user/mine` shows the first time a user is seen. */
export function emptyProfile (id: string): Profile {
  return { id, username: null, avatar: null, updatedAt: new Date(0).toISOString() }
}

export function applyPatch (id: string, current: Profile | null, patch: ProfilePatch, now: Date): Profile {
  const base = current ?? emptyProfile(id)
  return {
    id,
    username: patch.username !== undefined ? patch.username : base.username,
    avatar: patch.avatar !== undefined ? patch.avatar : base.avatar,
    updatedAt: now.toISOString()
  }
}
