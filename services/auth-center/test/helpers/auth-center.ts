import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { build, loadConfig } from '../../src/app.js'
import type { SmsMessage, SmsSender } from '../../src/sms/sender.js'

/** A real SmsSender that keeps what it would have sent, so tests can read the code. */
export class CapturingSender implements SmsSender {
  readonly name = 'capture'
  readonly sent: SmsMessage[] = []
  async send (m: SmsMessage): Promise<void> { this.sent.push(m) }
  lastCode (mobile: string): string {
    const m = [...this.sent].reverse().find((s) => s.mobile === mobile)
    if (m === undefined) throw new Error(`no code sent to ${mobile}`)
    return m.code
  }
}

export interface RunningAuthCenter {
  app: FastifyInstance
  url: string
  sms: CapturingSender
  /** Every log line the app wrote, for "never logs a secret" checks. */
  logs: string[]
  dataDir: string
  /** POST/PUT JSON to the running service over real HTTP. */
  call (method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number, body: any, headers: Headers }>
  close (): Promise<void>
}

export const TEST_MOBILE = '+8613800000000'
export const TEST_OTP = '123456'

/**
 * Starts the real auth center on 127.0.0.1 with an ephemeral port, a temporary data
 * directory and the given environment (REDIS_URL for the Redis driver).
 */
export async function startAuthCenter (env: Record<string, string> = {}, opts: { dataDir?: string } = {}): Promise<RunningAuthCenter> {
  const dataDir = opts.dataDir ?? await mkdtemp(join(tmpdir(), 'authcenter-test-'))
  const logs: string[] = []
  const stream = new Writable({ write (chunk, _enc, cb) { logs.push(String(chunk)); cb() } })
  const sms = new CapturingSender()
  let app: FastifyInstance | undefined
  let address: string
  try {
    const config = loadConfig({
      AUTH_ISSUER: 'http://auth.test',
      AUTH_DATA_DIR: dataDir,
      SMS_TEST_OTP: `${TEST_MOBILE}:${TEST_OTP}`,
      REFRESH_GRACE: '300ms',
      ...env
    })
    app = await build({ ...config, logLevel: 'info' }, { sms, logStream: stream })
    address = await app.listen({ host: '127.0.0.1', port: 0 })
  } catch (err) {
    // A start that fails (the case under test, often) must not leave its key directory behind.
    await app?.close()
    if (opts.dataDir === undefined) await rm(dataDir, { recursive: true, force: true, maxRetries: 3 })
    throw err
  }
  return {
    app,
    url: address,
    sms,
    logs,
    dataDir,
    async call (method, path, body, headers = {}) {
      const res = await fetch(address + path, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
      })
      const text = await res.text()
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers }
    },
    async close () {
      await app.close()
      // maxRetries: a key file being written as the app closes would make the removal fail (ENOTEMPTY).
      if (opts.dataDir === undefined) await rm(dataDir, { recursive: true, force: true, maxRetries: 3 })
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
