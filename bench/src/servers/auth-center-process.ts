/**
 * The auth center as a real process (`services/auth-center/dist/server.js`), on 127.0.0.1
 * and a free port: the one starter of the `auth`, `storage`, `scale` and `password` benchmarks.
 * Resolves once GET /healthz answers; the process is tracked by the harness, so a failed
 * or interrupted run kills it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '@authcenter/testkit'
import { BENCH_DIR, stopChild, track } from '../harness.js'

const AUTH_CENTER_DIR = join(BENCH_DIR, '..', 'services', 'auth-center')
const SERVER_JS = join(AUTH_CENTER_DIR, 'dist', 'server.js')
export const CODE = '123456'
// Many distinct users, so that a user's session count stays realistic (a few devices):
// 4000 test numbers fit one environment variable (< 128 KiB).
export const MOBILES = Array.from({ length: 4000 }, (_, i) => `+86138${String(i).padStart(8, '0')}`)

export interface AuthCenterProcess {
  /** `http://127.0.0.1:<port>` */
  base: string
  port: number
  pid: number
  child: ChildProcess
  /** Its AUTH_DATA_DIR (a temporary directory of its own, removed by close). */
  dataDir: string
  /** The last 4000 characters it wrote on stderr. */
  stderr: () => string
  /** SIGTERM (SIGKILL after 3 s), then the data directory is removed. */
  close: () => Promise<void>
}

async function waitHttp (url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`)
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await r.body?.cancel()
      if (r.ok) return
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`)
}

export interface StartOptions {
  /** How long to wait for /healthz (default 20 s). */
  timeoutMs?: number
  /**
   * Also copy its stderr to ours as it comes (default: only kept for stderr()), for a
   * benchmark whose server may die mid-run, where the reason should reach the console.
   */
  echoStderr?: boolean
}

/**
 * `env` picks the store (REDIS_URL, REDIS_CLUSTER_NODES, DATABASE_URL…) and overrides the
 * defaults: the test OTP of every number of MOBILES, LOG_LEVEL=warn, AUTH_ISSUER = its own
 * address (replicas of one deployment pass one shared issuer, and AUTH_KEK).
 */
export async function startAuthCenterProcess (env: Record<string, string>, opts: StartOptions = {}): Promise<AuthCenterProcess> {
  if (!existsSync(SERVER_JS)) throw new Error(`${SERVER_JS} is missing: run pnpm build first`)
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'authcenter-bench-'))
  let stderr = ''
  const child = track(spawn(process.execPath, [SERVER_JS], {
    cwd: AUTH_CENTER_DIR,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      AUTH_DATA_DIR: dataDir,
      AUTH_ISSUER: 'http://127.0.0.1:' + port,
      SMS_TEST_OTP: MOBILES.map((m) => `${m}:${CODE}`).join(','),
      LOG_LEVEL: 'warn',
      ...env
    },
    stdio: ['ignore', 'ignore', 'pipe']
  }))
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000)
    if (opts.echoStderr === true) process.stderr.write(b)
  })
  const base = `http://127.0.0.1:${port}`
  const close = async (): Promise<void> => {
    await stopChild(child)
    rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    await waitHttp(`${base}/healthz`, child, opts.timeoutMs ?? 20_000)
  } catch (err) {
    child.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
    const lines = stderr.trim().split('\n')
    const cause = lines.find((l) => /Error\b/.test(l)) ?? lines[0] ?? ''
    throw new Error(`${(err as Error).message}: ${cause.trim()}`)
  }
  return { base, port, pid: child.pid!, child, dataDir, stderr: () => stderr, close }
}

let clockTicks: number | undefined
/** Clock ticks per second of /proc times (`getconf CLK_TCK`, 100 on Linux). */
export function clkTck (): number {
  if (clockTicks === undefined) {
    try { clockTicks = Number((execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })).trim()) } catch {}
    if (clockTicks === undefined || !Number.isFinite(clockTicks) || clockTicks <= 0) clockTicks = 100
  }
  return clockTicks
}

/** CPU time of a process so far, in µs: utime + stime of /proc/<pid>/stat (in clock ticks: 10 ms resolution at CLK_TCK 100). */
export function cpuMicros (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces) start at field 3, state; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1e6 / clkTck()
}
