import { applyPatch, type Profile, type ProfilePatch, type ProfileStore, type UpsertResult } from './store.js'

/**
 * Profiles in a Map: for development and tests. State is lost on restart,
 * and replicas do not share it; `app.ts` logs a warning when it is chosen.
 */
export function createMemoryProfileStore (): ProfileStore {
  const profiles = new Map<string, Profile>()
  return {
    async get (userId) {
      return profiles.get(userId) ?? null
    },
    async upsert (userId: string, patch: ProfilePatch): Promise<UpsertResult> {
      const before = profiles.get(userId) ?? null
      const after = applyPatch(userId, before, patch, new Date())
      profiles.set(userId, after)
      return { before, after }
    }
  }
}
