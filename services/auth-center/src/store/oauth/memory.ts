import type { AuthCode, CodeReplay, Consent, OAuthStore } from './oauth.js'
import { withoutUndefined } from '../memory/copy.js'
import type { Sweeper } from '../memory/sweep.js'

export interface MemoryOAuthOptions {
  /** Drops expired codes and "used" markers now and then; without one they go only when read. */
  sweeper?: Sweeper
}

/**
 * OAuth2 authorization codes and consents in this process. No `await` between deciding
 * and changing, so each method is atomic for free.
 */
export function createMemoryOAuth (opts: MemoryOAuthOptions = {}): OAuthStore {
  /** Code id → grant; code id → "used" marker (pending | replayed | s:<session id>); user → client → consent. */
  const authCodes = new Map<string, { code: AuthCode, deadline: number }>()
  const usedCodes = new Map<string, { state: string, deadline: number }>()
  const consents = new Map<string, Map<string, Consent>>()

  opts.sweeper?.add((now) => {
    for (const [k, v] of authCodes) if (v.deadline <= now) authCodes.delete(k)
    for (const [k, v] of usedCodes) if (v.deadline <= now) usedCodes.delete(k)
  })

  return {
    async saveAuthCode (codeId, code, ttlMs) {
      authCodes.set(codeId, { code: withoutUndefined({ ...code }), deadline: Date.now() + ttlMs })
    },

    async takeAuthCode (codeId, usedTtlMs) {
      // Delete-on-read, no await in between: exactly one caller gets the grant.
      const entry = authCodes.get(codeId)
      authCodes.delete(codeId)
      if (entry === undefined || entry.deadline <= Date.now()) return null
      usedCodes.set(codeId, { state: 'pending', deadline: Date.now() + usedTtlMs })
      return { ...entry.code }
    },

    async bindAuthCode (codeId, sessionId) {
      const used = usedCodes.get(codeId)
      if (used === undefined) return true
      if (used.state === 'replayed') return false
      used.state = `s:${sessionId}`
      return true
    },

    async replayAuthCode (codeId): Promise<CodeReplay> {
      const used = usedCodes.get(codeId)
      if (used === undefined || used.deadline <= Date.now()) return { status: 'unknown' }
      if (used.state.startsWith('s:')) return { status: 'granted', sessionId: used.state.slice(2) }
      used.state = 'replayed'
      return { status: 'pending' }
    },

    async setConsent (userId, consent) {
      let mine = consents.get(userId)
      if (mine === undefined) {
        mine = new Map()
        consents.set(userId, mine)
      }
      mine.set(consent.clientId, { ...consent })
    },

    async getConsent (userId, clientId) {
      const c = consents.get(userId)?.get(clientId)
      return c === undefined ? null : { ...c }
    },

    async listConsents (userId) {
      return [...(consents.get(userId)?.values() ?? [])].map((c) => ({ ...c })).sort((a, b) => a.grantedAt - b.grantedAt)
    },

    async deleteConsent (userId, clientId) {
      return consents.get(userId)?.delete(clientId) ?? false
    }
  }
}
