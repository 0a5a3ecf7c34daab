import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

function message (env: Record<string, string>): string {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.message
    throw err
  }
  throw new Error(`accepted ${JSON.stringify(env)}`)
}

t.test('a value outside a list names the values it accepts (not "Expected union value")', async (t) => {
  t.equal(message({ AUTH_SIGNING_ALG: 'HS512' }), 'AUTH_SIGNING_ALG: expected one of EdDSA, ES256, RS256, HS256 (got "HS512")')
  t.equal(message({ AUTH_SIGNING_ALG: 'eddsa' }), 'AUTH_SIGNING_ALG: expected one of EdDSA, ES256, RS256, HS256 (got "eddsa")')
  t.equal(message({ LOG_LEVEL: 'loud' }), 'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent (got "loud")')
  t.equal(message({ SMS_SENDER: 'pigeon' }), 'SMS_SENDER: expected one of console, webhook (got "pigeon")')
})

t.test('other schema errors keep their message', async (t) => {
  t.match(message({ PORT: 'eighty' }), /^PORT: Expected string to match '.+' \(got "eighty"\)$/)
})
