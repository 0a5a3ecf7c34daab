import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { freePort } from '@authcenter/testkit'
import { TEST_MOBILE, TEST_OTP } from './auth-center.js'

const SERVICE_DIR = fileURLToPath(new URL('../..', import.meta.url))

export interface ServerProcess {
  url: string
  port: number
  child: ChildProcessByStdio<null, Readable, Readable>
  /** Resolves with the exit code once the process exited. */
  exited: Promise<number | null>
  /** What the process wrote so far. */
  stdout: () => string
  stderr: () => string
  /** Resolves once GET /readyz answers 200; throws if the process exits first or after 60 s. */
  untilReady: () => Promise<void>
}

/**
 * The real auth center as its own process (`node --import tsx src/server.ts`), on a
 * free port with a data directory of its own, the test OTP set and info logs on
 * stdout; killed and cleaned up at teardown. Not awaited ready: a test of a start that
 * must fail waits for `exited` instead.
 */
export async function spawnAuthCenter (t: Test, env: Record<string, string>, name: string): Promise<ServerProcess> {
  const port = await freePort()
  const dataDir = await mkdtemp(join(tmpdir(), `authcenter-${name}-`))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: SERVICE_DIR,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), AUTH_DATA_DIR: dataDir, LOG_LEVEL: 'info', SMS_TEST_OTP: `${TEST_MOBILE}:${TEST_OTP}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (b: Buffer) => { stdout += b.toString() })
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
    await rm(dataDir, { recursive: true, force: true, maxRetries: 3 })
  })
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    port,
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    async untilReady () {
      await untilReadyz(url, 200, 60_000, {
        giveUp: () => child.exitCode === null ? undefined : `the auth center exited with ${child.exitCode}`,
        detail: () => stderr
      })
    }
  }
}

/**
 * Polls GET `${base}/readyz` every 100 ms until it answers `wanted` (200 ready, 503 store
 * unavailable or draining) and resolves with that status. A refused connection counts as
 * no answer yet, a service still starting. Rejects once `timeoutMs` passed, naming the last
 * answer, or as soon as `giveUp` gives a reason (a process that exited will never answer);
 * `detail` (its stderr) is added to either message.
 */
export async function untilReadyz (base: string, wanted: number, timeoutMs: number, opts: { giveUp?: () => string | undefined, detail?: () => string } = {}): Promise<number> {
  const deadline = Date.now() + timeoutMs
  const fail = (why: string): Error => new Error(opts.detail === undefined ? why : `${why}: ${opts.detail()}`)
  // The last status seen says more than the poll cut short by the deadline, so it is kept.
  let said = 'no answer'
  let answered = false
  for (;;) {
    // The request's own bound is what is left, so a store that hangs cannot stretch the wait.
    let status = 0
    try {
      const r = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(Math.max(deadline - Date.now(), 1)) })
      status = r.status
      said = `${status} ${await r.text()}`
      answered = true
    } catch (err) {
      if (!answered) said = `no answer (${String(err)})`
    }
    if (status === wanted) return status
    const reason = opts.giveUp?.()
    if (reason !== undefined) throw fail(reason)
    if (Date.now() >= deadline) throw fail(`GET ${base}/readyz did not answer ${wanted} within ${timeoutMs} ms (last: ${said})`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
