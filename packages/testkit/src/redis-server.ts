import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.js'

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Stops the server (SIGTERM, then SIGKILL); the port stays reserved for `start()`. */
  stop (): Promise<void>
  /** Starts it again on the same port; data survives only when `persist` was set. */
  start (): Promise<void>
  /** Stops it for good and removes its directory. */
  close (): Promise<void>
}

export interface StartRedisOptions {
  /** Keep an append-only file so a restart keeps the data (default false: a restart comes back empty). */
  persist?: boolean
}

const BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server'

/**
 * Starts a real `redis-server` on a free port of 127.0.0.1, in a temporary directory,
 * so tests never touch a Redis they did not start. Fails loudly when the binary is
 * missing, because a skipped Redis test would hide exactly the bugs it exists for.
 */
export async function startRedis (opts: StartRedisOptions = {}): Promise<RedisServer> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'authcenter-redis-'))
  let child: ChildProcess | undefined

  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--save', '', '--appendonly', opts.persist === true ? 'yes' : 'no',
    '--daemonize', 'no', '--loglevel', 'warning', '--protected-mode', 'yes'
  ]

  async function start (): Promise<void> {
    if (child !== undefined) return
    const c = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    child = c
    let stderr = ''
    c.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
    const failed = new Promise<never>((_resolve, reject) => {
      c.once('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'ENOENT'
          ? new Error(`${BIN} not found: install it (apt-get install redis-server) or set REDIS_SERVER_BIN`)
          : err)
      })
      c.once('exit', (code) => { reject(new Error(`redis-server exited with ${String(code)}: ${stderr}`)) })
    })
    failed.catch(() => {})
    await Promise.race([waitForPort(port), failed])
    c.removeAllListeners('exit')
    c.on('exit', () => { if (child === c) child = undefined })
  }

  async function stop (): Promise<void> {
    const c = child
    if (c === undefined) return
    child = undefined
    const exited = once(c, 'exit')
    c.kill('SIGTERM')
    const timer = setTimeout(() => c.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }

  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    async close () {
      await stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** Resolves once a Redis on 127.0.0.1:port answers PING (10 s at most): PONG, or NOAUTH from one with a password (it is up). */
export async function waitForPort (port: number): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.write('PING\r\n')
        s.once('data', (b) => { s.destroy(); resolve(/^(\+PONG|-NOAUTH)/.test(b.toString())) })
      })
      s.once('error', () => { s.destroy(); resolve(false) })
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`redis-server did not answer on port ${port} within 10 s`)
}
