import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Session, User } from '../../src/store/store.js'

/** Records and polling shared by the per-concern contract suites (test/store/*.contract.ts). */

/** Polls (for the Redis driver, messages arrive over the network). */
export async function until (check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(10)
  }
}

let mobileSeq = 0
/** A distinct E.164 number per call, so subtests never share state. */
export function newMobile (): string {
  mobileSeq += 1
  return `+86138${String(process.pid % 10_000).padStart(4, '0')}${String(mobileSeq).padStart(4, '0')}`
}

export function newUser (mobile: string): User {
  return { id: randomUUID(), mobile, createdAt: Date.now() }
}

export function newSession (userId: string, createdAt: number, over: Partial<Session> = {}): Session {
  return {
    id: randomUUID(),
    userId,
    clientId: 'mobile-app',
    createdAt,
    lastUsedAt: createdAt,
    expiresAt: createdAt + 30 * 24 * 3600_000,
    refreshGen: 1,
    rotatedAt: 0,
    refreshNonce: randomUUID(),
    ...over
  }
}

/** Polls until `check` holds (the Redis follower delivers asynchronously); fails after `timeoutMs`. */
export async function pollUntil (check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
