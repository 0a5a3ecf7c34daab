import type { Test } from 'tap'
import { TEST_MOBILE, TEST_OTP, type RunningAuthCenter } from './auth-center.js'
import { untilReadyz } from './server-process.js'

/**
 * The outage every store backend must survive: with the backend stopped, login, refresh
 * and /readyz answer 503 STORE_UNAVAILABLE within 2 s while /healthz stays up; started
 * again, the service is ready without a restart and the session saved before is there.
 */
export async function checkStoreOutage (t: Test, ac: RunningAuthCenter, backend: { stop (): Promise<void>, start (): Promise<void> }): Promise<void> {
  const login = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  t.equal((await ac.call('GET', '/readyz')).status, 200)

  await backend.stop()
  for (const [method, path, body] of [
    ['POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP }],
    ['POST', '/auth/refresh', { refresh_token: login.refresh_token }],
    ['GET', '/readyz', undefined]
  ] as const) {
    const started = Date.now()
    const r = await ac.call(method, path, body)
    const took = Date.now() - started
    t.equal(r.status, 503, `${path} is 503`)
    t.equal(r.body.code, 'STORE_UNAVAILABLE')
    t.ok(took < 2000, `${path} answered in ${took} ms`)
  }
  t.equal((await ac.call('GET', '/healthz')).status, 200, 'the process itself is alive')

  await backend.start()
  t.equal(await untilReadyz(ac.url, 200, 5000), 200, 'ready again without a restart')
  const r = await ac.call('POST', '/auth/refresh', { refresh_token: login.refresh_token })
  t.equal(r.status, 200, 'the session saved before the outage is still there')
}
