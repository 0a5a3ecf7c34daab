import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const serverTs = fileURLToPath(new URL('../src/server.ts', import.meta.url))

function run (env: Record<string, string>): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', 'tsx', serverTs], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
}

t.test('a bad variable stops the process with one line naming it', async (t) => {
  const child = run({ AVATAR_MAX_BYTES: 'lots' })
  let stderr = ''
  child.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
  const [code] = await once(child, 'exit') as [number]
  t.equal(code, 1)
  t.match(stderr.trim(), /^invalid environment: AVATAR_MAX_BYTES must be .*$/)
  t.equal(stderr.trim().split('\n').length, 1)
})

t.test('starts, answers, and stops cleanly on SIGTERM', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'user-service-server-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const child = run({ PORT: '0', AVATAR_DIR: dir, AUTH_JWKS_URI: 'http://127.0.0.1:9/jwks.json' })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let stdout = ''
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (b: Buffer) => {
      stdout += b.toString()
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)
      if (m !== null) resolve(m[1] as string)
    })
    child.once('exit', () => reject(new Error(`exited early: ${stdout}`)))
  })
  t.match(stdout, /profiles are kept in memory/, 'warns about the memory driver')
  const res = await fetch(`${url}/healthz`)
  t.same(await res.json(), { status: 'ok' })
  child.kill('SIGTERM')
  const [code] = await once(child, 'exit') as [number]
  t.equal(code, 0)
})
