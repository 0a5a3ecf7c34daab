import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import type { AuthCode, OAuthStore } from '../../src/store/store.js'

export interface OAuthFixture {
  oauth: OAuthStore
  teardown (): Promise<void>
}

/**
 * The behaviour every OAuthStore driver must have (authorization codes with their "used"
 * marker, consents), run once per driver. Each subtest gets a fresh store from `make`.
 */
export async function oauthContract (t: Test, name: string, make: () => Promise<OAuthFixture>): Promise<void> {
  await t.test(`${name} oauth contract`, async (t) => {
    async function fresh (t: Test): Promise<OAuthStore> {
      const { oauth, teardown } = await make()
      t.teardown(teardown)
      return oauth
    }

    t.test('an authorization code is taken exactly once, with every field of its grant', async (t) => {
      const oauth = await fresh(t)
      const id = randomUUID()
      const code = newCode({ nonce: 'n-1' })
      await oauth.saveAuthCode(id, code, 60_000)
      t.strictSame(await oauth.takeAuthCode(id, 60_000), code)
      t.equal(await oauth.takeAuthCode(id, 60_000), null, 'the second take gets nothing')
      t.equal(await oauth.takeAuthCode(randomUUID(), 60_000), null, 'an unknown code')

      const plain = newCode()
      const other = randomUUID()
      await oauth.saveAuthCode(other, plain, 60_000)
      const taken = await oauth.takeAuthCode(other, 60_000)
      t.strictSame(taken, plain)
      t.notOk(taken !== null && 'nonce' in taken, 'an absent nonce stays absent')
    })

    t.test('20 concurrent takes of one code: exactly one gets the grant', async (t) => {
      const oauth = await fresh(t)
      const id = randomUUID()
      await oauth.saveAuthCode(id, newCode(), 60_000)
      const results = await Promise.all(Array.from({ length: 20 }, async () => await oauth.takeAuthCode(id, 60_000)))
      t.equal(results.filter((r) => r !== null).length, 1)
    })

    t.test('a code expires after its ttl', async (t) => {
      const oauth = await fresh(t)
      const id = randomUUID()
      await oauth.saveAuthCode(id, newCode(), 150)
      await sleep(300)
      t.equal(await oauth.takeAuthCode(id, 60_000), null)
      t.strictSame(await oauth.replayAuthCode(id), { status: 'unknown' }, 'an expired code was never taken: no marker')
    })

    t.test('the used marker: a replay before the bind makes the bind fail; after it, the replay names the session', async (t) => {
      const oauth = await fresh(t)
      const early = randomUUID()
      await oauth.saveAuthCode(early, newCode(), 60_000)
      await oauth.takeAuthCode(early, 60_000)
      t.strictSame(await oauth.replayAuthCode(early), { status: 'pending' })
      t.equal(await oauth.bindAuthCode(early, 'session-1'), false, 'the replay came first: the caller revokes its session')

      const late = randomUUID()
      await oauth.saveAuthCode(late, newCode(), 60_000)
      await oauth.takeAuthCode(late, 60_000)
      t.equal(await oauth.bindAuthCode(late, 'session-2'), true)
      t.strictSame(await oauth.replayAuthCode(late), { status: 'granted', sessionId: 'session-2' })
      t.strictSame(await oauth.replayAuthCode(late), { status: 'granted', sessionId: 'session-2' }, 'a second replay reads the same')

      t.strictSame(await oauth.replayAuthCode(randomUUID()), { status: 'unknown' })
      t.equal(await oauth.bindAuthCode(randomUUID(), 'session-3'), true, 'no marker: nothing came first')
    })

    t.test('consents: set, replace, list oldest first, delete; per user', async (t) => {
      const oauth = await fresh(t)
      const userId = randomUUID()
      t.equal(await oauth.getConsent(userId, 'a'), null)
      t.strictSame(await oauth.listConsents(userId), [])
      await oauth.setConsent(userId, { clientId: 'b', scope: 'profile', grantedAt: 2_000 })
      await oauth.setConsent(userId, { clientId: 'a', scope: 'profile', grantedAt: 3_000 })
      await oauth.setConsent(userId, { clientId: 'a', scope: 'profile email', grantedAt: 1_000 })
      t.strictSame(await oauth.getConsent(userId, 'a'), { clientId: 'a', scope: 'profile email', grantedAt: 1_000 }, 'replaced')
      t.strictSame((await oauth.listConsents(userId)).map((c) => c.clientId), ['a', 'b'], 'by grantedAt')
      t.strictSame(await oauth.listConsents(randomUUID()), [], 'another user has none')
      t.equal(await oauth.deleteConsent(userId, 'a'), true)
      t.equal(await oauth.deleteConsent(userId, 'a'), false)
      t.equal(await oauth.getConsent(userId, 'a'), null)
      t.strictSame((await oauth.listConsents(userId)).map((c) => c.clientId), ['b'])
    })
  })
}

function newCode (over: Partial<AuthCode> = {}): AuthCode {
  return {
    clientId: 'partner',
    redirectUri: 'https://partner.example/cb',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    scope: 'openid profile',
    userId: randomUUID(),
    authTime: 1_700_000_000_000,
    ...over
  }
}
