import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { connect as tlsConnect } from 'node:tls'
import { promisify } from 'node:util'
import { waitForPort } from './redis-server.js'

const SERVER_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server'
const CLI_BIN = process.env.REDIS_CLI_BIN ?? 'redis-cli'
const run = promisify(execFile)

/** One redis-server (or sentinel) process of a cluster or Sentinel setup. */
export interface RedisProcess {
  readonly host: string
  readonly port: number
  readonly alive: boolean
  /** SIGKILL: a crash, nothing flushed, no goodbye to the peers. */
  kill (): Promise<void>
  /** SIGTERM, then SIGKILL after 3 s. */
  stop (): Promise<void>
}

/** TLS for the nodes of a cluster: PEM files (see makeTestCertificates). */
export interface RedisTlsFiles {
  ca: string
  cert: string
  key: string
}

/**
 * Spawns `redis-server <args>` (args name the port) and waits until it answers PING
 * (over TLS, trusting `tls.ca`, when the port is a `--tls-port`).
 * Fails loudly when the binary is missing, as startRedis does.
 */
export async function spawnRedis (port: number, args: string[], opts: { tls?: { ca: string } | undefined } = {}): Promise<RedisProcess> {
  const child: ChildProcess = spawn(SERVER_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  let alive = true
  child.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
  const exited = once(child, 'exit').then(() => { alive = false })
  const failed = new Promise<never>((_resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? new Error(`${SERVER_BIN} not found: install it (apt-get install redis-server) or set REDIS_SERVER_BIN`) : err)
    })
    void exited.then(() => { reject(new Error(`redis-server on port ${port} exited: ${stderr}`)) })
  })
  failed.catch(() => {})
  await Promise.race([opts.tls !== undefined ? waitForTlsPort(port, opts.tls.ca) : waitForPort(port), failed])

  async function signal (sig: NodeJS.Signals): Promise<void> {
    if (!alive) return
    child.kill(sig)
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }
  return {
    host: '127.0.0.1',
    port,
    get alive () { return alive },
    kill: async () => { await signal('SIGKILL') },
    stop: async () => { await signal('SIGTERM') }
  }
}

/** A node for redisCli: its port, or its port, the password it wants (requirepass) and the CA of its TLS port. */
export type CliNode = number | { port: number, password?: string | undefined, tls?: { ca: string } | undefined }

/**
 * `redis-cli -p <port> <args>`: the reply as text (raw mode, no type prefixes). A
 * password goes through REDISCLI_AUTH, not `-a`: a command line is visible to every
 * user of the machine (ps), and `-a` makes redis-cli print a warning.
 */
export async function redisCli (node: CliNode, ...args: string[]): Promise<string> {
  const { port, password, tls } = typeof node === 'number' ? { port: node, password: undefined, tls: undefined } : node
  const env = password === undefined ? process.env : { ...process.env, REDISCLI_AUTH: password }
  const tlsArgs = tls === undefined ? [] : ['--tls', '--cacert', tls.ca]
  const { stdout } = await run(CLI_BIN, ['-h', '127.0.0.1', '-p', String(port), ...tlsArgs, ...args], { timeout: 10_000, env })
  return stdout
}

/** Calls `check` every 50 ms until it returns true, or throws `what` after `ms`. */
export async function waitUntil (what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Fields of an INFO / CLUSTER INFO reply (`name:value` lines). */
export function infoFields (text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':')
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1).trim())
  }
  return out
}

/** waitForPort over TLS: PING answered (PONG, or NOAUTH) on a connection whose certificate `ca` signed for 127.0.0.1. */
async function waitForTlsPort (port: number, caFile: string): Promise<void> {
  const ca = readFileSync(caFile)
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ca })
      s.once('secureConnect', () => {
        s.write('PING\r\n')
        s.once('data', (b: Buffer) => { s.destroy(); resolve(/^(\+PONG|-NOAUTH)/.test(b.toString())) })
      })
      s.once('error', () => { s.destroy(); resolve(false) })
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`redis-server did not answer over TLS on port ${port} within 10 s`)
}
