import type { Test } from 'tap'
import type { ProfileStore } from '../../src/profiles/store.js'

/**
 * The contract every ProfileStore driver passes. `make` returns a fresh, empty
 * store (the Redis run gives each call its own key prefix).
 */
export function profileStoreContract (t: Test, make: () => Promise<ProfileStore> | ProfileStore): void {
  t.test('get returns null for a user never seen', async (t) => {
    const store = await make()
    t.equal(await store.get('nobody'), null)
  })

  t.test('the first upsert creates the profile and reports no previous one', async (t) => {
    const store = await make()
    const { before, after } = await store.upsert('1', { username: 'alice' })
    t.equal(before, null)
    t.match(after, { id: '1', username: 'alice', avatar: null, updatedAt: String })
    t.same(await store.get('1'), after)
  })

  t.test('an upsert changes only the fields it names and returns the state it replaced', async (t) => {
    const store = await make()
    await store.upsert('1', { username: 'alice' })
    const first = await store.upsert('1', { avatar: 'a.png' })
    t.match(first.before, { username: 'alice', avatar: null })
    t.match(first.after, { username: 'alice', avatar: 'a.png' })
    const second = await store.upsert('1', { avatar: 'b.png' })
    t.equal(second.before?.avatar, 'a.png')
    t.match(await store.get('1'), { id: '1', username: 'alice', avatar: 'b.png' })
  })

  t.test('null clears a field', async (t) => {
    const store = await make()
    await store.upsert('1', { username: 'alice', avatar: 'a.png' })
    const { after } = await store.upsert('1', { avatar: null })
    t.match(after, { username: 'alice', avatar: null })
    t.match(await store.get('1'), { username: 'alice', avatar: null })
  })

  t.test('users are kept apart', async (t) => {
    const store = await make()
    await store.upsert('1', { username: 'alice' })
    await store.upsert('2', { username: 'bob' })
    t.equal((await store.get('1'))?.username, 'alice')
    t.equal((await store.get('2'))?.username, 'bob')
  })

  t.test('ids and names are opaque strings (unicode, colons, spaces)', async (t) => {
    const store = await make()
    await store.upsert('tenant:1 x', { username: '小明 😀' })
    t.equal((await store.get('tenant:1 x'))?.username, '小明 😀')
    t.equal(await store.get('tenant:1'), null)
  })

  t.test('updatedAt moves forward', async (t) => {
    const store = await make()
    const a = await store.upsert('1', { username: 'a1' })
    await new Promise((resolve) => setTimeout(resolve, 5))
    const b = await store.upsert('1', { username: 'a2' })
    t.ok(Date.parse(b.after.updatedAt) > Date.parse(a.after.updatedAt))
  })

  t.test('concurrent upserts of one user each see a distinct previous state', async (t) => {
    const store = await make()
    await store.upsert('1', { avatar: 'a0.png' })
    const results = await Promise.all(Array.from({ length: 20 }, async (_, i) => store.upsert('1', { avatar: `a${i + 1}.png` })))
    // Every avatar replaced exactly once: no file would be leaked or removed twice.
    const replaced = results.map((r) => r.before?.avatar).sort()
    const written = ['a0.png', ...results.map((r) => r.after.avatar)]
    const final = (await store.get('1'))?.avatar
    t.same(replaced, written.filter((a) => a !== final).sort())
  })
}
