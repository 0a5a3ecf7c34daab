import t from 'tap'
import { connect } from 'node:net'
import { startRedis } from '../src/index.js'

function ping (port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => { s.write('PING\r\n') })
    s.once('data', (b) => { s.destroy(); resolve(b.toString().trim()) })
    s.once('error', (err: NodeJS.ErrnoException) => { resolve(err.code ?? 'error') })
  })
}

t.test('starts, stops and restarts a real redis-server on its own port', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  t.equal(await ping(redis.port), '+PONG')
  await redis.stop()
  t.equal(await ping(redis.port), 'ECONNREFUSED')
  await redis.start()
  t.equal(await ping(redis.port), '+PONG')
})
