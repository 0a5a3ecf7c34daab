import t from 'tap'
import { loadConfig } from '../src/config.js'

t.test('PUBLIC_URL: the URL DPoP proofs must name, with an optional mount path', async (t) => {
  t.equal(loadConfig({}).publicUrl, undefined, 'unset: the address the service listens on')
  t.equal(loadConfig({ PUBLIC_URL: 'https://api.example.com' }).publicUrl, 'https://api.example.com')
  t.equal(loadConfig({ PUBLIC_URL: 'https://example.com/users' }).publicUrl, 'https://example.com/users')
  for (const bad of ['api.example.com', 'https://api.example.com/?x=1', 'https://api.example.com/#a', 'ftp://api.example.com', 'https://api example.com']) {
    t.throws(() => loadConfig({ PUBLIC_URL: bad }), { message: /^invalid environment: PUBLIC_URL must be an http\(s\) URL without query/ }, bad)
  }
})
