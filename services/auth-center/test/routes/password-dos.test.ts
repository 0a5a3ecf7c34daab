import t from 'tap'
import { randomBytes, scryptSync } from 'node:crypto'
import { createHashSlots } from '../../src/auth/hash-slots.js'
import { startAuthCenter, TEST_MOBILE, TEST_OTP, type RunningAuthCenter } from '../helpers/auth-center.js'

// Issue #12: 60 concurrent password logins to unknown numbers held the thread pool for
// 80 s (scrypt at 128 MiB a hash), raised RSS to 588 MiB and made a real login take 4 s.
// Here: behaviour (refusals, what gets through); the figures are in bench/ (password-dos).

const PASSWORD = 'correct horse battery'

interface Gate { open: () => void, wait: Promise<void> }
function gate (): Gate {
  let open!: () => void
  const wait = new Promise<void>((resolve) => { open = resolve })
  return { open, wait }
}

/** An account with a password, logged in through its fixed test code. */
async function withPassword (ac: RunningAuthCenter): Promise<void> {
  const login = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })
  const set = await ac.call('PUT', '/auth/password', { new_password: PASSWORD, code: TEST_OTP }, { authorization: `Bearer ${login.body.access_token}` })
  if (set.status !== 204) throw new Error(`setting the password answered ${set.status}`)
}

t.test('when every hash slot and the queue are taken, a password login is 503 PASSWORD_CHECK_BUSY with Retry-After', async (t) => {
  const ac = await startAuthCenter({ PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '1' })
  t.teardown(() => ac.close())
  await withPassword(ac)
  const slots = ac.app.deps.passwordSlots
  const g = gate()
  const held = [slots.run(async () => await g.wait), slots.run(async () => await g.wait).catch((err: unknown) => err)]
  t.equal(slots.running, 1)
  t.equal(slots.waiting, 1)

  const known = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, password: PASSWORD })
  const unknown = await ac.call('POST', '/auth/login', { mobile: '+8613811110000', password: PASSWORD })
  for (const r of [known, unknown]) {
    t.equal(r.status, 503)
    t.equal(r.body.code, 'PASSWORD_CHECK_BUSY')
    t.equal(r.headers.get('retry-after'), '1')
  }
  t.same(unknown.body, known.body, 'an unknown number is refused the same way: a 503 tells nothing about the account')
  t.equal(ac.logs.filter((l) => JSON.parse(l).level >= 50).length, 0, 'load shedding is not logged as an error')

  g.open()
  await Promise.all(held)
  const real = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, password: PASSWORD })
  t.equal(real.status, 200, 'once a slot is free, the real login gets through')
  t.equal(slots.running, 0)
})

t.test('a check that waits a second for a slot is refused rather than queued for long', async (t) => {
  const ac = await startAuthCenter({ PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '8' })
  t.teardown(() => ac.close())
  const g = gate()
  const held = ac.app.deps.passwordSlots.run(async () => await g.wait)
  const r = await ac.call('POST', '/auth/login', { mobile: '+8613811110001', password: PASSWORD })
  t.equal(r.status, 503)
  t.equal(r.body.code, 'PASSWORD_CHECK_BUSY')
  t.equal(ac.app.deps.passwordSlots.waiting, 0, 'it left the queue')
  g.open()
  await held
})

t.test('the hash slots: at most `concurrency` at once, one kept for the known lane, the queue in order, refusals beyond it', async (t) => {
  const slots = createHashSlots({ concurrency: 3, queue: 2, maxWaitMs: 60_000 })
  const gates = Array.from({ length: 6 }, () => gate())
  const started: number[] = []
  const runs = gates.map(async (g, i) => await slots.run(async () => { started.push(i); await g.wait; return i }, i === 5 ? 'known' : 'other').catch((err: Error) => err))
  await new Promise((resolve) => setImmediate(resolve))
  t.strictSame(started, [0, 1, 5], 'two for the other lane, the third slot for the known one')
  t.equal(slots.running, 3)
  t.equal(slots.waiting, 2)
  const refused = await runs[4]
  t.equal((refused as { code?: string }).code, 'PASSWORD_CHECK_BUSY', 'the fifth other is refused at once')
  gates[5]!.open()
  await runs[5]
  t.strictSame(started, [0, 1, 5], 'the kept slot does not go to the other lane')
  gates[1]!.open()
  await runs[1]
  t.strictSame(started, [0, 1, 5, 2], 'a freed slot goes to the first in the queue')
  for (const g of gates) g.open()
  t.strictSame(await Promise.all(runs.slice(0, 4)), [0, 1, 2, 3])
  t.equal(slots.running, 0)
  t.throws(() => createHashSlots({ concurrency: 0, queue: 1 }), TypeError)
})

t.test('the hash slots: the known lane waits in its own queue and is served first', async (t) => {
  const slots = createHashSlots({ concurrency: 1, queue: 1, maxWaitMs: 60_000 })
  const order: string[] = []
  const g = gate()
  const first = slots.run(async () => { await g.wait; order.push('first') })
  const other = slots.run(async () => { order.push('other') })
  const refused = await slots.run(async () => {}).catch((err: Error) => err)
  t.equal((refused as { code?: string }).code, 'PASSWORD_CHECK_BUSY')
  const known = slots.run(async () => { order.push('known') }, 'known')
  t.equal(slots.waiting, 2)
  g.open()
  await Promise.all([first, other, known])
  t.strictSame(order, ['first', 'known', 'other'])
})

t.test('returning addresses have a lane and a slot of their own: a flood from fresh addresses cannot keep them out', async (t) => {
  // Two slots, no queue: one slot for any check, the other kept for returning addresses.
  const ac = await startAuthCenter({ PASSWORD_HASH_CONCURRENCY: '2', PASSWORD_HASH_QUEUE: '0', TRUST_PROXY: '127.0.0.1' })
  t.teardown(() => ac.close())
  await withPassword(ac)
  const from = (ip: string): Record<string, string> => ({ 'x-forwarded-for': ip })
  t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, password: PASSWORD }, from('192.0.2.10'))).status, 200, 'the user logged in from here before')

  const slots = ac.app.deps.passwordSlots
  const g = gate()
  const held = slots.run(async () => await g.wait)
  const fresh = await ac.call('POST', '/auth/login', { mobile: '+8613811110002', password: 'bogus guess' }, from('198.51.100.77'))
  t.equal(fresh.body.code, 'PASSWORD_CHECK_BUSY', 'a fresh address finds every slot it may use taken')
  t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, password: PASSWORD }, from('192.0.2.10'))).status, 200,
    'the returning user gets the kept slot')
  // The lane depends on the address, not the account: an unknown number from a known
  // address is served the same way (a 401, not a 503), so nothing leaks about accounts.
  t.equal((await ac.call('POST', '/auth/login', { mobile: '+8613811110003', password: 'bogus guess' }, from('192.0.2.10'))).status, 401)
  g.open()
  await held
})

t.test('an address gets 20 failed password tries per 15 minutes; a successful login gives its try back', async (t) => {
  const ac = await startAuthCenter()
  t.teardown(() => ac.close())
  await withPassword(ac)
  const statuses: number[] = []
  // Different unknown numbers, so the per-account limit (5) never answers first.
  for (let i = 0; i < 19; i++) statuses.push((await ac.call('POST', '/auth/login', { mobile: `+86138111120${String(i).padStart(2, '0')}`, password: 'guess' + String(i) })).status)
  t.strictSame(statuses, Array.from({ length: 19 }, () => 401))
  t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, password: PASSWORD })).status, 200, 'a real login among them')
  t.equal((await ac.call('POST', '/auth/login', { mobile: '+8613811113000', password: 'guess 20' })).status, 401, 'the 20th failure')
  const refused = await ac.call('POST', '/auth/login', { mobile: '+8613811113001', password: 'guess 21' })
  t.equal(refused.status, 429)
  t.equal(refused.body.code, 'RATE_LIMITED')
  t.match(refused.body.message, /from this address/)
})

t.test('new hashes use N=2^14, r=8, p=5; hashes with the earlier N=2^17, p=1 still verify', async (t) => {
  const ac = await startAuthCenter()
  t.teardown(() => ac.close())
  await withPassword(ac)
  const user = (await ac.app.deps.store.getUserByMobile(TEST_MOBILE))!
  t.match(user.passwordHash, /^\$scrypt\$ln=14,r=8,p=5\$[\w-]{22}\$[\w-]{43}$/)

  const salt = randomBytes(16)
  const old = scryptSync('an old password', salt, 32, { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 })
  await ac.app.deps.store.setPassword(user.id, `$scrypt$ln=17,r=8,p=1$${salt.toString('base64url')}$${old.toString('base64url')}`, Date.now())
  t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, password: 'an old password' })).status, 200)
  t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, password: PASSWORD })).status, 401)
})
