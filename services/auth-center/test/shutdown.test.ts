import { once } from 'node:events'
import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import t, { type Test } from 'tap'
import { DEV_REVOCATION_CLIENT_ID, DEV_REVOCATION_CLIENT_SECRET } from '../src/revocations/dev-client.js'
import { TEST_MOBILE, TEST_OTP } from './helpers/auth-center.js'
import { clientToken } from './revocations/helpers.js'
import { spawnAuthCenter } from './helpers/server-process.js'

// The graceful shutdown of a real auth-center process (src/shutdown.ts): SIGTERM while a
// login is in flight and a revocation feed stream is open.

interface Proc {
  url: string
  port: number
  /** Resolves with the exit code once the process exited. */
  exited: Promise<number | null>
  /** How many log lines with this `msg` stdout carried so far. */
  count (msg: string): number
  /** Resolves once stdout carried `times` log lines with this `msg`. */
  logged (msg: string, times?: number): Promise<void>
  /** Resolves once stdout holds `text` (any log line). */
  printed (text: string): Promise<void>
  kill (signal: NodeJS.Signals): void
}

async function startAuthCenter (t: Test, env: Record<string, string>): Promise<Proc> {
  const proc = await spawnAuthCenter(t, env, 'shutdown')
  const waiting: Array<{ msg: string, times: number, resolve: () => void }> = []
  const count = (msg: string): number => proc.stdout().split(`"msg":"${msg}"`).length - 1
  // Registered after the helper's own listener, so stdout() already holds the chunk.
  proc.child.stdout.on('data', () => {
    for (const w of [...waiting]) {
      if (count(w.msg) >= w.times) { waiting.splice(waiting.indexOf(w), 1); w.resolve() }
    }
  })
  await proc.untilReady()
  return {
    url: proc.url,
    port: proc.port,
    exited: proc.exited,
    count,
    logged: async (msg, times = 1) => {
      if (count(msg) >= times) return
      await new Promise<void>((resolve) => { waiting.push({ msg, times, resolve }) })
    },
    printed: async (text) => {
      while (!proc.stdout().includes(text)) await once(proc.child.stdout, 'data')
    },
    kill: (signal) => { proc.child.kill(signal) }
  }
}

/** A feed stream: resolves with the response; `text()` is what it carried so far; `ended` once the server closed it. */
async function openStream (port: number, token: string): Promise<{ res: IncomingMessage, text: () => string, ended: Promise<void> }> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/revocations/stream', headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, resolve)
      .on('error', reject).end()
  })
  let text = ''
  res.setEncoding('utf8')
  res.on('data', (chunk: string) => { text += chunk })
  const ended = once(res, 'end').then(() => undefined)
  while (!text.includes('event: hello')) await once(res, 'data')
  return { res, text: () => text, ended }
}

/** A login whose body is only half sent: in flight until `finish()` sends the rest. */
function slowLogin (port: number): { req: ClientRequest, finish: () => void, response: Promise<{ status: number, body: string }> } {
  const body = JSON.stringify({ mobile: TEST_MOBILE, code: TEST_OTP, device: { name: 'drain' } })
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/auth/login', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } })
  const response = new Promise<{ status: number, body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: text }) })
      res.on('error', reject)
    })
    req.on('error', reject)
  })
  req.flushHeaders()
  req.write(body.slice(0, 10))
  return { req, finish: () => { req.end(body.slice(10)) }, response }
}

t.test('SIGTERM: /readyz 503 at once, feed streams get end, the login in flight completes, exit 0', async (t) => {
  // A delay long enough to ask /readyz before the listener closes; the bound far above it.
  const ac = await startAuthCenter(t, { SHUTDOWN_DELAY: '3s', SHUTDOWN_TIMEOUT: '60s' })
  const token = await clientToken(ac.url, DEV_REVOCATION_CLIENT_ID, DEV_REVOCATION_CLIENT_SECRET, 'revocations:read')
  const stream = await openStream(ac.port, token)
  const login = slowLogin(ac.port)

  ac.kill('SIGTERM')
  await ac.logged('shutting down: draining')
  const ready = await fetch(`${ac.url}/readyz`, { headers: { connection: 'close' } })
  t.equal(ready.status, 503, '/readyz says 503 as soon as the drain began')
  t.equal((await ready.json() as { code: string }).code, 'SHUTTING_DOWN')
  t.equal(ready.headers.get('connection'), 'close', 'answers during the drain close their connection')

  await stream.ended
  t.match(stream.text(), /event: end\ndata: \{"reason":"shutting_down"\}\n\n$/, 'the feed stream ended with end (shutting_down)')
  const refused = await fetch(`${ac.url}/healthz`).then(() => 'answered', (err: { cause?: { code?: string } }) => err.cause?.code)
  t.equal(refused, 'ECONNREFUSED', 'once the streams ended the listener is closed')

  login.finish()
  const answer = await login.response
  t.equal(answer.status, 200, 'the login in flight completed')
  t.type((JSON.parse(answer.body) as { access_token?: unknown }).access_token, 'string')
  t.equal(await ac.exited, 0, 'exit code 0: drained within SHUTDOWN_TIMEOUT')
})

t.test('SIGTERM: a request that never completes is cut at SHUTDOWN_TIMEOUT, exit 1', async (t) => {
  const ac = await startAuthCenter(t, { SHUTDOWN_TIMEOUT: '1s' })
  const login = slowLogin(ac.port)
  const cut = login.response.then(() => 'answered', () => 'cut')
  // In flight once the server logged it (its headers arrived; the body never completes).
  // Waiting for this very request's line: counting "incoming request" lines could be
  // satisfied by the last /readyz poll's line arriving late, and a SIGTERM sent before the
  // login arrived gets it a 503 at once instead of an in-flight request.
  await ac.printed('"url":"/auth/login"')
  ac.kill('SIGTERM')
  t.equal(await ac.exited, 1, 'exit code 1: SHUTDOWN_TIMEOUT ran out')
  t.equal(await cut, 'cut', 'the request never completed')
})
