import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

t.test('DATABASE_URL and DATABASE_POOL_MAX', async (t) => {
  const unset = loadConfig({})
  t.equal(unset.databaseUrl, undefined)
  t.equal(unset.databasePoolMax, 10)

  const set = loadConfig({ DATABASE_URL: 'postgres://ac:pw@db:5432/ac', DATABASE_POOL_MAX: '25' })
  t.equal(set.databaseUrl, 'postgres://ac:pw@db:5432/ac')
  t.equal(set.databasePoolMax, 25)
  t.equal(loadConfig({ DATABASE_URL: 'postgresql://db/ac' }).databaseUrl, 'postgresql://db/ac')

  const bad = (() => { try { loadConfig({ DATABASE_URL: 'mysql://u:s3cret-pw@db/ac' }) } catch (e) { return e } })()
  t.type(bad, ConfigError)
  t.match((bad as Error).message, /^DATABASE_URL: expected postgres:\/\//)
  t.notOk((bad as Error).message.includes('s3cret-pw'), 'the URL (and its password) is not repeated')
  t.throws(() => loadConfig({ DATABASE_POOL_MAX: '0' }), /^DATABASE_POOL_MAX:/)
  t.throws(() => loadConfig({ NODE_ENV: 'production', SMS_SENDER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.example', DATABASE_URL: 'postgres://db/ac' }), /^AUTH_KEK: required/)
})
