import t from 'tap'
import { loadClients } from '../../src/clients/registry.js'
import { loadConfig } from '../../src/config.js'
import { DEV_REVOCATION_CLIENT_ID } from '../../src/revocations/dev-client.js'

t.test('the built-in development reader of the revocation feed exists outside production only', async (t) => {
  const dev = loadClients(loadConfig({ AUTH_DATA_DIR: '/nonexistent' })).get(DEV_REVOCATION_CLIENT_ID)
  t.equal(dev?.type, 'oauth')
  t.same(dev?.oauth?.scopes, ['revocations:read'], 'it can only read the feed')
  t.same(dev?.oauth?.grantTypes, ['client_credentials'])
  let production
  try {
    production = loadConfig({ NODE_ENV: 'production', SMS_SENDER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.example/send', AUTH_DATA_DIR: '/nonexistent' })
  } catch (err) {
    t.fail(`a production configuration should load: ${(err as Error).message}`)
    return
  }
  t.equal(loadClients(production).get(DEV_REVOCATION_CLIENT_ID), undefined, 'never in production')
})
