import t from 'tap'
import { bearer, form, images, startService } from './helper.js'

t.test('tokens never reach the log', async (t) => {
  const lines: string[] = []
  const svc = await startService(t, { LOG_LEVEL: 'trace' }, { logStream: { write: (line: string) => { lines.push(line) } } })
  const token = svc.issuer.mint('log-1')
  const expired = svc.issuer.mint('log-1', { exp: 1 })
  await fetch(`${svc.url}/user/mine`, { headers: bearer(token) })
  await fetch(`${svc.url}/user/mine`, { headers: bearer(expired) })
  await fetch(`${svc.url}/user/avatar`, { method: 'POST', headers: bearer(token), body: form(Buffer.from('not an image, just text')) })
  await fetch(`${svc.url}/user/avatar`, { method: 'POST', headers: bearer(token), body: form(images.png) })
  t.ok(lines.length > 5, 'something was logged')
  const all = lines.join('')
  const signature = (s: string): string => s.split('.')[2] as string
  t.notOk(all.includes(signature(token)), 'no valid token')
  t.notOk(all.includes(signature(expired)), 'no refused token')
})
