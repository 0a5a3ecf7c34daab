import t from 'tap'
import { startPostgres } from '@authcenter/testkit'
import { StoreUnavailableError } from '../../../src/errors.js'
import { createPostgres } from '../../../src/store/postgres/pool.js'

t.test('the pool against a real PostgreSQL that stops and starts again', async (t) => {
  const server = await startPostgres()
  t.teardown(() => server.close())
  const url = await server.newDatabase()
  const changes: boolean[] = []
  const db = createPostgres(url, { max: 3, onConnectionChange: (up) => { changes.push(up) } })
  t.teardown(() => db.close())

  await db.query('CREATE TABLE n (v int PRIMARY KEY)')
  const { rows } = await db.query<{ v: number }>('INSERT INTO n VALUES ($1) RETURNING v', [1])
  t.strictSame(rows, [{ v: 1 }])
  await db.ping()

  await t.rejects(db.query('INSERT INTO n VALUES ($1)', [1]), { code: '23505' }, 'a bad statement is not an outage: its own error passes')
  await t.rejects(db.query('SELECT pg_sleep(3)'), StoreUnavailableError, 'the statement timeout: a server too slow to answer is unavailable')

  const committed = await db.transaction(async (tx) => {
    await tx.query('INSERT INTO n VALUES ($1)', [2])
    return 'done'
  })
  t.equal(committed, 'done')
  await t.rejects(db.transaction(async (tx) => {
    await tx.query('INSERT INTO n VALUES ($1)', [3])
    throw new Error('changed my mind')
  }), /changed my mind/)
  t.strictSame((await db.query<{ v: number }>('SELECT v FROM n ORDER BY v')).rows, [{ v: 1 }, { v: 2 }], 'the thrown transaction was rolled back')

  await server.stop()
  await t.rejects(db.ping(), StoreUnavailableError)
  await t.rejects(db.query('SELECT v FROM n'), StoreUnavailableError)
  await t.rejects(db.transaction(async (tx) => await tx.query('SELECT 1')), StoreUnavailableError)
  t.strictSame(changes, [false, true, false], 'each loss is said once (the timeout was one, then the next answer)')

  await server.start()
  t.strictSame((await db.query<{ v: number }>('SELECT v FROM n ORDER BY v')).rows, [{ v: 1 }, { v: 2 }], 'recovered without a new pool')
  t.strictSame(changes, [false, true, false, true])
})
