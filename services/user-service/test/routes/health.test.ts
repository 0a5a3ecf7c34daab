import t from 'tap'
import { startService } from '../helper.js'

t.test('GET /healthz answers ok without a token', async (t) => {
  const svc = await startService(t)
  const res = await fetch(`${svc.url}/healthz`)
  t.equal(res.status, 200)
  t.same(await res.json(), { status: 'ok' })
})
