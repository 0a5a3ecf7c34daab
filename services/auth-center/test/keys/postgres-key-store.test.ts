import t from 'tap'
import { randomBytes } from 'node:crypto'
import { generateKek, parseKek } from '../../src/keys/kek.js'
import { newKeySet, rotateKeySet } from '../../src/keys/key-set.js'
import { createPostgresKeyStore } from '../../src/keys/postgres-key-store.js'
import { keySetCodec } from '../../src/keys/sealed-key-set.js'
import { startMigratedPostgres } from '../store/pg-template.js'

const pg = await startMigratedPostgres([3])
t.teardown(() => pg.close())

const kek = parseKek('AUTH_KEK', generateKek())
const codec = keySetCodec({ current: kek, previous: [] })

t.test('the key set in PostgreSQL: sealed, first init wins, replace is a compare-and-set on the revision', async (t) => {
  const { db } = await pg.fresh()
  const store = createPostgresKeyStore(db, codec)
  t.equal(store.kind, 'postgres')
  t.equal(await store.load(), null)

  const first = newKeySet('EdDSA', Date.now())
  const other = newKeySet('EdDSA', Date.now())
  t.strictSame(await store.init(first), first)
  t.strictSame(await store.init(other), first, 'a second init keeps the stored set')

  const { rows } = await db.query<{ revision: string, sealed: string }>('SELECT revision, sealed FROM ac_keys')
  t.equal(rows.length, 1)
  t.equal(Number(rows[0]!.revision), first.revision)
  t.notOk(rows[0]!.sealed.includes(first.refreshMacKey), 'no key material in clear')
  t.notOk(rows[0]!.sealed.includes(String((first.keys[0]!.privateJwk as { d?: string }).d)), 'no private key in clear')

  // Ten replicas rotating from the same revision at once: exactly one wins.
  const rotations = Array.from({ length: 10 }, () => rotateKeySet(first, 'EdDSA', Date.now(), 60_000))
  const won = await Promise.all(rotations.map(async (next) => await store.replace(first.revision, next)))
  t.equal(won.filter(Boolean).length, 1)
  const winner = rotations[won.indexOf(true)]!
  t.strictSame(await store.load(), winner)
  t.equal(await store.replace(first.revision, rotateKeySet(first, 'EdDSA', Date.now(), 60_000)), false, 'a stale revision writes nothing')
})

t.test('copy writes whatever is stored; reseal moves the set to the current KEK and keeps its revision', async (t) => {
  const { db } = await pg.fresh()
  const oldKek = parseKek('AUTH_KEK', `old:${randomBytes(32).toString('base64url')}`)
  const set = newKeySet('ES256', Date.now())
  await createPostgresKeyStore(db, keySetCodec({ current: oldKek, previous: [] })).copy(set)

  const store = createPostgresKeyStore(db, keySetCodec({ current: kek, previous: [oldKek] }))
  t.strictSame(await store.load(), set, 'opened with the previous KEK')
  t.equal(await store.reseal(), 'old')
  t.equal(await store.reseal(), kek.id, 'already sealed under the current one')
  t.strictSame(await createPostgresKeyStore(db, codec).load(), set, 'the current KEK alone opens it now')
})
