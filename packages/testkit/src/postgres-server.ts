import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { appendFile, chown, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { freePort } from './free-port.js'

export interface PostgresServer {
  readonly port: number
  /** URL of the server's `postgres` database, user `postgres`, no password (trust, local only). */
  readonly url: string
  /** Directory holding the server's unix socket. */
  readonly socketDir: string
  /** Fast shutdown (`pg_ctl stop -m fast`); the data and the port stay for `start()`. */
  stop (): Promise<void>
  /** Starts it again on the same port with the same data. */
  start (): Promise<void>
  /** Stops it for good and removes its directory. */
  close (): Promise<void>
  /** Creates a fresh, empty database and returns its URL (one per test keeps tests apart). */
  newDatabase (): Promise<string>
}

export interface StartPostgresOptions {
  /** Extra postgresql.conf lines, e.g. `['max_connections = 200']`. */
  settings?: string[]
}

const run = promisify(execFile)

/**
 * Debian installs the server binaries off PATH, in /usr/lib/postgresql/<major>/bin;
 * PG_BIN_DIR overrides, and PATH is the last resort (other distributions).
 */
function binDir (): string {
  const fromEnv = process.env.PG_BIN_DIR
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(join(fromEnv, 'initdb'))) throw new Error(`PG_BIN_DIR=${fromEnv} holds no initdb`)
    return fromEnv
  }
  const debian = '/usr/lib/postgresql'
  if (existsSync(debian)) {
    const majors = readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
    for (const major of majors) {
      const dir = join(debian, major, 'bin')
      if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir
    }
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir
  }
  throw new Error('initdb and pg_ctl not found: install postgresql (apt-get install postgresql) or set PG_BIN_DIR')
}

/** PostgreSQL refuses to run as root: as root every command runs as the `postgres` user. */
function asServerUser (): { prefix: string[], uid?: number, gid?: number } {
  if (process.getuid?.() !== 0) return { prefix: [] }
  let uid: number
  let gid: number
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
    gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
  } catch {
    throw new Error('running as root needs a `postgres` user to run the server as (Debian\'s postgresql package creates it)')
  }
  return { prefix: ['runuser', '-u', 'postgres', '--'], uid, gid }
}

/** Servers still running, stopped at once if the test process exits without closing them. */
const running = new Set<() => void>()
let exitHookSet = false
function onExitStop (stopNow: () => void): void {
  running.add(stopNow)
  if (exitHookSet) return
  exitHookSet = true
  process.once('exit', () => { for (const s of running) s() })
}

/**
 * Starts a real PostgreSQL server (initdb into a temporary directory, then pg_ctl) on a
 * free port of 127.0.0.1 with its unix socket in that directory, so tests never touch the
 * machine's own PostgreSQL. fsync stays on: the tests exercise the real commit path.
 */
export async function startPostgres (opts: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = binDir()
  const user = asServerUser()
  const dir = await mkdtemp(join(tmpdir(), 'authcenter-pg-'))
  const data = join(dir, 'data')
  const log = join(dir, 'server.log')
  if (user.uid !== undefined && user.gid !== undefined) await chown(dir, user.uid, user.gid)

  function command (tool: string, args: string[]): [string, string[]] {
    const [cmd, ...rest] = [...user.prefix, join(bin, tool), ...args]
    return [cmd!, rest]
  }

  async function pgTool (tool: string, args: string[]): Promise<void> {
    try {
      await run(...command(tool, args), { cwd: dir })
    } catch (err) {
      const e = err as { stderr?: string, message: string }
      const serverLog = await readFile(log, 'utf8').catch(() => '')
      throw new Error(`${tool} failed: ${e.stderr ?? e.message}${serverLog !== '' ? `\nserver log:\n${serverLog.slice(-2000)}` : ''}`)
    }
  }

  await pgTool('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-instructions'])
  // Only 127.0.0.1 and the private socket: trust auth must not be reachable from elsewhere.
  await appendFile(join(data, 'postgresql.conf'), [
    '',
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${dir}'`,
    'fsync = on',
    'shared_buffers = 32MB',
    'max_connections = 100',
    ...(opts.settings ?? []),
    ''
  ].join('\n'))

  let up = false
  const stopNow = (): void => {
    try { execFileSync(...command('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']), { stdio: 'ignore' }) } catch {}
  }

  async function start (): Promise<void> {
    if (up) return
    await pgTool('pg_ctl', ['start', '-D', data, '-l', log, '-w', '-t', '60'])
    up = true
    onExitStop(stopNow)
  }

  async function stop (): Promise<void> {
    if (!up) return
    up = false
    running.delete(stopNow)
    await pgTool('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '60'])
  }

  // The port is taken after initdb (seconds, under load) and set last in the config (its
  // last line wins). Another process can still take a free port before the server binds
  // it, an outgoing connection's ephemeral port among them: then try another, a few times.
  let port = 0
  for (let attempt = 1; ; attempt++) {
    port = await freePort()
    await appendFile(join(data, 'postgresql.conf'), `port = ${port}\n`)
    try {
      await start()
      break
    } catch (err) {
      if (attempt >= 5 || !/Address already in use/.test((err as Error).message)) throw err
    }
  }
  const base = `postgres://postgres@127.0.0.1:${port}`
  return {
    port,
    url: `${base}/postgres`,
    socketDir: dir,
    start,
    stop,
    async close () {
      await stop()
      await rm(dir, { recursive: true, force: true })
    },
    async newDatabase () {
      const name = `t_${randomBytes(6).toString('hex')}`
      const client = new pg.Client({ connectionString: `${base}/postgres` })
      await client.connect()
      try {
        await client.query(`CREATE DATABASE ${name}`)
      } finally {
        await client.end()
      }
      return `${base}/${name}`
    }
  }
}
