import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import type { CodeStore } from '../../src/store/store.js'
import { newMobile } from './contract-helpers.js'

export interface CodesFixture {
  codes: CodeStore
  teardown (): Promise<void>
}

/**
 * The behaviour every CodeStore driver must have (SMS codes, rate counters, markOnce), run once
 * per driver. Each subtest gets a fresh store from `make`. Timing cases use real sleeps with wide
 * margins: a server's TTLs run on its own clock, which no fake clock reaches.
 */
export async function codesContract (t: Test, name: string, make: () => Promise<CodesFixture>): Promise<void> {
  await t.test(`${name} codes contract`, async (t) => {
    async function fresh (t: Test): Promise<CodeStore> {
      const { codes, teardown } = await make()
      t.teardown(teardown)
      return codes
    }

    t.test('SMS codes', async (t) => {
      const opts = { ttlMs: 5_000, cooldownMs: 200, maxAttempts: 5 }

      t.test('issueSmsCode refuses during the cooldown, says how long, and issues again after it', async (t) => {
        const codes = await fresh(t)
        const mobile = newMobile()
        t.strictSame(await codes.issueSmsCode(mobile, 'h1', opts), { ok: true, retryAfterMs: 0 })
        const refused = await codes.issueSmsCode(mobile, 'h2', opts)
        t.equal(refused.ok, false)
        t.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= opts.cooldownMs, `retryAfterMs ${refused.retryAfterMs}`)
        t.equal(await codes.checkSmsCode(mobile, 'h1'), 'ok', 'a refused issue leaves the live code alone')

        await sleep(opts.cooldownMs + 100)
        t.equal((await codes.issueSmsCode(mobile, 'h3', opts)).ok, true)
        t.equal(await codes.checkSmsCode(mobile, 'h3'), 'ok')
      })

      t.test('cancelSmsCode drops the code and the cooldown', async (t) => {
        const codes = await fresh(t)
        const mobile = newMobile()
        await codes.issueSmsCode(mobile, 'h1', { ...opts, cooldownMs: 60_000 })
        await codes.cancelSmsCode(mobile)
        t.equal(await codes.checkSmsCode(mobile, 'h1'), 'missing', 'the code is gone')
        t.equal((await codes.issueSmsCode(mobile, 'h2', opts)).ok, true, 'no cooldown left')
        await codes.cancelSmsCode(newMobile())
        t.pass('cancelling a number without a code is harmless')
      })

      // Checks one after another on one number: each try and what it must answer.
      const wrongs = Array.from({ length: opts.maxAttempts - 1 }, () => ['wrong', 'wrong'] as const)
      for (const { name, issued, tries } of [
        { name: 'the right code is consumed exactly once', issued: 'right', tries: [['right', 'ok'], ['right', 'missing']] },
        { name: 'a wrong try uses one attempt and the right code still works', issued: 'right', tries: [['wrong', 'wrong'], ['right', 'ok']] },
        { name: 'the last of maxAttempts wrong tries kills the code, the right one with it', issued: 'right', tries: [...wrongs, ['wrong', 'dead'], ['right', 'missing']] },
        { name: 'an unknown number has no code', tries: [['x', 'missing']] }
      ] as const) {
        t.test(name, async (t) => {
          const codes = await fresh(t)
          const mobile = newMobile()
          if (issued !== undefined) await codes.issueSmsCode(mobile, issued, opts)
          for (const [i, [code, answer]] of tries.entries()) t.equal(await codes.checkSmsCode(mobile, code), answer, `try ${i + 1}: ${code}`)
        })
      }

      // 20 checks of one code at once: how many get each answer.
      for (const { name, code, answers } of [
        { name: 'concurrent wrong tries cannot exceed maxAttempts', code: 'wrong', answers: { wrong: opts.maxAttempts - 1, dead: 1, missing: 20 - opts.maxAttempts } },
        { name: 'concurrent checks of the right code: exactly one ok', code: 'right', answers: { ok: 1, missing: 19 } }
      ]) {
        t.test(name, async (t) => {
          const codes = await fresh(t)
          const mobile = newMobile()
          await codes.issueSmsCode(mobile, 'right', opts)
          const results = await Promise.all(Array.from({ length: 20 }, async () => await codes.checkSmsCode(mobile, code)))
          const counted: Record<string, number> = {}
          for (const r of results) counted[r] = (counted[r] ?? 0) + 1
          t.strictSame(counted, answers)
        })
      }

      t.test('a code expires after ttlMs', async (t) => {
        const codes = await fresh(t)
        const mobile = newMobile()
        await codes.issueSmsCode(mobile, 'right', { ...opts, ttlMs: 150 })
        await sleep(300)
        t.equal(await codes.checkSmsCode(mobile, 'right'), 'missing')
      })

      t.test('a new code replaces the live one, with fresh attempts', async (t) => {
        const codes = await fresh(t)
        const mobile = newMobile()
        const noCooldown = { ...opts, cooldownMs: 0, maxAttempts: 2 }
        await codes.issueSmsCode(mobile, 'first', noCooldown)
        t.equal(await codes.checkSmsCode(mobile, 'wrong'), 'wrong')
        t.equal((await codes.issueSmsCode(mobile, 'second', noCooldown)).ok, true, 'no cooldown when cooldownMs is 0')
        t.equal(await codes.checkSmsCode(mobile, 'first'), 'wrong', 'the old code no longer matches')
        t.equal(await codes.checkSmsCode(mobile, 'second'), 'ok')
      })

      t.test('nonsense options are a TypeError, not a store error', async (t) => {
        const codes = await fresh(t)
        await t.rejects(codes.issueSmsCode(newMobile(), 'h', { ...opts, ttlMs: 0 }), TypeError)
        await t.rejects(codes.issueSmsCode(newMobile(), 'h', { ...opts, maxAttempts: 0 }), TypeError)
        await t.rejects(codes.issueSmsCode(newMobile(), 'h', { ...opts, cooldownMs: -1 }), TypeError)
        await t.rejects(codes.hit('k', 1, 0), TypeError)
      })
    })


    t.test('counters', async (t) => {
      t.test('hit counts within a fixed window and starts over after it', async (t) => {
        const codes = await fresh(t)
        const key = `login:${randomUUID()}`
        const results = []
        for (let i = 0; i < 4; i++) results.push(await codes.hit(key, 3, 200))
        t.strictSame(results.map((r) => [r.allowed, r.count]), [[true, 1], [true, 2], [true, 3], [false, 4]])
        for (const r of results) t.ok(r.retryAfterMs > 0 && r.retryAfterMs <= 200, `retryAfterMs ${r.retryAfterMs}`)

        await sleep(300)
        const next = await codes.hit(key, 3, 200)
        t.strictSame([next.allowed, next.count], [true, 1], 'a new window')
      })

      t.test('resetHits clears one counter and leaves others', async (t) => {
        const codes = await fresh(t)
        const a = `a:${randomUUID()}`
        const b = `b:${randomUUID()}`
        await codes.hit(a, 1, 10_000)
        await codes.hit(a, 1, 10_000)
        await codes.hit(b, 1, 10_000)
        await codes.resetHits(a)
        t.equal((await codes.hit(a, 1, 10_000)).count, 1)
        t.equal((await codes.hit(b, 1, 10_000)).count, 2)
        await codes.resetHits(`unknown:${randomUUID()}`)
      })

      t.test('releaseHit gives back one hit, never below zero, and never starts a window', async (t) => {
        const codes = await fresh(t)
        const key = `release:${randomUUID()}`
        await codes.hit(key, 2, 10_000)
        await codes.hit(key, 2, 10_000)
        t.equal(await codes.countHits(key), 2)
        await codes.releaseHit(key)
        t.equal(await codes.countHits(key), 1)
        const again = await codes.hit(key, 2, 10_000)
        t.strictSame([again.allowed, again.count], [true, 2], 'the given-back hit is free again')
        await codes.releaseHit(key)
        await codes.releaseHit(key)
        await codes.releaseHit(key)
        t.equal(await codes.countHits(key), 0, 'not below zero')
        const unknown = `none:${randomUUID()}`
        await codes.releaseHit(unknown)
        t.equal(await codes.countHits(unknown), 0)
        t.equal((await codes.hit(unknown, 1, 10_000)).count, 1, 'no negative counter was left behind')
      })

      t.test('releaseHit keeps the end of the window', async (t) => {
        const codes = await fresh(t)
        const key = `release-window:${randomUUID()}`
        await codes.hit(key, 5, 200)
        await codes.hit(key, 5, 200)
        await codes.releaseHit(key)
        await sleep(300)
        t.equal(await codes.countHits(key), 0, 'the window still ended on time')
        t.equal((await codes.hit(key, 5, 200)).count, 1)
      })

      t.test('countHits reads without counting', async (t) => {
        const codes = await fresh(t)
        const key = `count:${randomUUID()}`
        t.equal(await codes.countHits(key), 0)
        await codes.hit(key, 3, 10_000)
        t.equal(await codes.countHits(key), 1)
        t.equal(await codes.countHits(key), 1)
      })

      t.test('50 concurrent releases of 50 hits leave exactly zero', async (t) => {
        const codes = await fresh(t)
        const key = `release-burst:${randomUUID()}`
        await Promise.all(Array.from({ length: 50 }, async () => await codes.hit(key, 10, 10_000)))
        await Promise.all(Array.from({ length: 60 }, async () => { await codes.releaseHit(key) }))
        t.equal(await codes.countHits(key), 0)
      })

      t.test('50 concurrent hits are all counted', async (t) => {
        const codes = await fresh(t)
        const key = `burst:${randomUUID()}`
        const results = await Promise.all(Array.from({ length: 50 }, async () => await codes.hit(key, 10, 10_000)))
        t.strictSame(results.map((r) => r.count).sort((x, y) => x - y), Array.from({ length: 50 }, (_v, i) => i + 1))
        t.equal(results.filter((r) => r.allowed).length, 10)
      })
    })

    t.test('markOnce: one true per key within its ttl, 50 concurrent marks included', async (t) => {
      const codes = await fresh(t)
      // A ttl far longer than 50 marks can take on a loaded machine: a short one could lapse
      // mid-burst and rightly let a second mark through.
      const results = await Promise.all(Array.from({ length: 50 }, () => codes.markOnce('jkt:jti-1', 60_000)))
      t.equal(results.filter(Boolean).length, 1)
      t.equal(await codes.markOnce('jkt:jti-2', 300), true, 'another key is independent')
      t.equal(await codes.markOnce('jkt:jti-2', 300), false, 'marked')
      await new Promise((resolve) => setTimeout(resolve, 350))
      t.equal(await codes.markOnce('jkt:jti-2', 300), true, 'after the ttl the key is free again')
      t.equal(await codes.markOnce('jkt:jti-1', 60_000), false, 'a live mark still refuses')
    })
  })
}
