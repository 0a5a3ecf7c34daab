import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createWebhookSender } from '../../src/sms/webhook-sender.js'
import { build, loadConfig } from '../../src/app.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

async function gateway (answers: number[]): Promise<{ url: string, bodies: unknown[], close: () => Promise<void> }> {
  const bodies: unknown[] = []
  const srv = createServer((req, res) => {
    let data = ''
    req.on('data', (c) => { data += c })
    req.on('end', () => {
      bodies.push(JSON.parse(data))
      res.statusCode = answers.shift() ?? 200
      res.end()
    })
  })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/sms`, bodies, close: () => new Promise((resolve) => srv.close(() => resolve())) }
}

t.test('posts {mobile, code, expires_in} and retries a 5xx', async (t) => {
  const gw = await gateway([503, 200])
  t.teardown(gw.close)
  await createWebhookSender({ url: gw.url }).send({ mobile: '+8613800138000', code: '123456', expiresIn: 300 })
  t.same(gw.bodies, [{ mobile: '+8613800138000', code: '123456', expires_in: 300 }, { mobile: '+8613800138000', code: '123456', expires_in: 300 }])
})

t.test('a 4xx is final; an unreachable gateway fails after its retries', async (t) => {
  const gw = await gateway([400, 200])
  t.teardown(gw.close)
  await t.rejects(createWebhookSender({ url: gw.url }).send({ mobile: '+8613800138000', code: '1', expiresIn: 1 }))
  t.equal(gw.bodies.length, 1)
  await t.rejects(createWebhookSender({ url: 'http://127.0.0.1:9/', retries: 1, timeoutMs: 500 }).send({ mobile: '+8613800138000', code: '1', expiresIn: 1 }))
})

t.test('the route answers 502 SMS_DELIVERY_FAILED when the webhook fails, and never logs the code', async (t) => {
  const gw = await gateway([500, 500, 500])
  t.teardown(gw.close)
  const logs: string[] = []
  const { Writable } = await import('node:stream')
  const dataDir = await mkdtemp(join(tmpdir(), 'ac-'))
  const app = await build(loadConfig({ SMS_SENDER: 'webhook', SMS_WEBHOOK_URL: gw.url, AUTH_DATA_DIR: dataDir }), {
    logStream: new Writable({ write (c, _e, cb) { logs.push(String(c)); cb() } })
  })
  // The data directory holds signing keys: removed once the app is closed.
  t.teardown(async () => { await app.close(); await rm(dataDir, { recursive: true, force: true, maxRetries: 3 }) })
  const r = await app.inject({ method: 'POST', url: '/auth/sms-code', payload: { mobile: '13800138000' } })
  t.equal(r.statusCode, 502)
  t.equal(r.json().code, 'SMS_DELIVERY_FAILED')
  const code = (gw.bodies[0] as { code: string }).code
  t.notOk(logs.join('').includes(code), 'the code is not in the logs')
  t.notOk(logs.join('').includes('13800138000'), 'nor the full number')
  t.match(logs.join(''), /\+86138\*\*\*\*8000/, 'the number appears masked')
  const again = await app.inject({ method: 'POST', url: '/auth/sms-code', payload: { mobile: '13800138000' } })
  t.equal(again.statusCode, 202, 'no cooldown after a failed delivery: the user may ask again at once (the gateway is back)')
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { mobile: '13800138000', code } })
  t.equal(login.json().code, 'INVALID_CODE', 'the undelivered code does not stay alive')
  const delivered = (gw.bodies[gw.bodies.length - 1] as { code: string }).code
  t.equal((await app.inject({ method: 'POST', url: '/auth/login', payload: { mobile: '13800138000', code: delivered } })).statusCode, 200, 'the delivered one works')
})
