/**
 * Benchmark: password hashing as a denial-of-service lever (issue #12). The auth center
 * (services/auth-center/dist/server.js, memory store) runs as a child process; this
 * process floods `POST /auth/login` with bogus passwords for unknown numbers (200 at a
 * time, each worker firing again as soon as it is answered), samples the server's RSS
 * from /proc every 20 ms, and meanwhile a real user, in a process of its own
 * (servers/real-user-worker.ts), logs in with its password once a second, honouring
 * `Retry-After` on a 503, timed end to end.
 *
 * Three floods: 200 workers from one client address (the finding's setup: one client),
 * 60 and 200 workers each from a new address per request (a spread-out attacker that the
 * per-address budget cannot stop; only the hash slots bound it). Figures, not assertions.
 */
import { readFileSync, rmSync } from 'node:fs'
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import {
  type Options, type Result, type Row, type Table, type Target,
  fmt, forkTs, log, machine, median, onExit, versions, writeResult
} from './harness.js'
import { startAuthCenterProcess, type AuthCenterProcess } from './servers/auth-center-process.js'

const REAL_MOBILE = '+8613900000001'
const REAL_CODE = '246810'
const REAL_PASSWORD = 'correct horse battery staple'
const REAL_ADDRESS = '192.0.2.10'
const RSS_TARGET_MIB = 400

/** A fresh auth center on the memory store, knowing only the real user's test code. */
async function startServer (): Promise<AuthCenterProcess> {
  return await startAuthCenterProcess({
    SMS_TEST_OTP: `${REAL_MOBILE}:${REAL_CODE}`,
    // The bench is the proxy: every bogus login may claim its own client address.
    TRUST_PROXY: '127.0.0.1',
    LOG_LEVEL: 'error'
  }, {
    // Generous: on a shared machine under load a cold start can take long.
    timeoutMs: 60_000,
    echoStderr: true
  })
}

/** RSS of a process in MiB, from /proc (Linux). */
function rssMiB (pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? NaN : Number(m[1]) / 1024
}

// fetch's global pool has no connection limit per origin: each worker gets its own
// connection, like as many clients.
async function post (base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number, retryAfter: number, body: any }> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body)
  })
  const text = await res.text()
  return { status: res.status, retryAfter: Number(res.headers.get('retry-after') ?? '0'), body: text === '' ? undefined : JSON.parse(text) }
}

async function setUpAccount (base: string): Promise<void> {
  const login = await post(base, '/auth/login', { mobile: REAL_MOBILE, code: REAL_CODE }, { 'x-forwarded-for': REAL_ADDRESS })
  if (login.status !== 200) throw new Error(`test-code login answered ${login.status}`)
  const res = await fetch(`${base}/auth/password`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${login.body.access_token as string}`, 'x-forwarded-for': REAL_ADDRESS },
    body: JSON.stringify({ new_password: REAL_PASSWORD, code: REAL_CODE })
  })
  if (res.status !== 204) throw new Error(`setting the password answered ${res.status}`)
  // A returning user: this address has logged in with a password before the flood.
  const first = await post(base, '/auth/login', { mobile: REAL_MOBILE, password: REAL_PASSWORD }, { 'x-forwarded-for': REAL_ADDRESS })
  if (first.status !== 200) throw new Error(`the first password login answered ${first.status}`)
}

let counter = 0
function unknownMobile (): string { return `+86137${String(counter++ % 100_000_000).padStart(8, '0')}` }
function freshAddress (): string { const n = counter++; return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` }

interface Phase {
  name: string
  workers: number
  spread: boolean
}

interface PhaseResult {
  peakRssMiB: number
  answers: Record<string, number>
  /** End-to-end time of each real login (retries after 503 included), ms. */
  realMs: number[]
  realTries: number[]
  realFailed: number
}

/** The real user, in its own process (servers/real-user-worker.ts), for `seconds` from when it is told to start. */
async function realUser (base: string, seconds: number): Promise<{ start: () => Promise<{ ms: number[], tries: number[], failed: number, unexpected: string[] }> }> {
  const { child } = await forkTs<{ ready: boolean }>('servers/real-user-worker.ts', [base, REAL_MOBILE, REAL_PASSWORD, REAL_ADDRESS, String(seconds)], { timeoutMs: 60_000 })
  return {
    start: async () => await new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m as { ms: number[], tries: number[], failed: number, unexpected: string[] }))
      child.once('exit', (code) => reject(new Error(`the real-user worker exited with ${String(code)}`)))
      child.send('go')
    })
  }
}

async function flood (server: AuthCenterProcess, phase: Phase, seconds: number): Promise<PhaseResult> {
  const pid = server.pid
  const out: PhaseResult = { peakRssMiB: rssMiB(pid), answers: {}, realMs: [], realTries: [], realFailed: 0 }
  const sampler = setInterval(() => { out.peakRssMiB = Math.max(out.peakRssMiB, rssMiB(pid)) }, 20)
  const worker = async (): Promise<void> => {
    const oneAddress = `198.51.100.${phase.workers % 250}`
    while (performance.now() < until) {
      const r = await post(server.base, '/auth/login', { mobile: unknownMobile(), password: 'bogus password guess' },
        { 'x-forwarded-for': phase.spread ? freshAddress() : oneAddress })
      const key = `${r.status}${typeof r.body?.code === 'string' ? ' ' + (r.body.code as string) : ''}`
      out.answers[key] = (out.answers[key] ?? 0) + 1
    }
  }
  const user = await realUser(server.base, seconds - 1)
  const until = performance.now() + seconds * 1000
  const workers = Array.from({ length: phase.workers }, worker)
  // The real user starts once the flood is under way.
  await new Promise((resolve) => setTimeout(resolve, 500))
  const [real] = await Promise.all([user.start(), ...workers])
  if (real.unexpected.length > 0) throw new Error(`the real login answered ${real.unexpected.join(', ')}`)
  out.realMs = real.ms
  out.realTries = real.tries
  out.realFailed = real.failed
  clearInterval(sampler)
  out.peakRssMiB = Math.max(out.peakRssMiB, rssMiB(pid))
  return out
}

function summarize (name: string, r: PhaseResult, idleMs: number): Row {
  const real = median(r.realMs)
  return {
    contender: name,
    median: real,
    samples: r.realMs,
    min: r.realMs.length > 0 ? Math.min(...r.realMs) : null,
    max: r.realMs.length > 0 ? Math.max(...r.realMs) : null,
    ratio: Number.isFinite(real) ? real / idleMs : null,
    extra: {
      'peak RSS MiB': r.peakRssMiB,
      'real logins ok': `${r.realMs.length}/${r.realMs.length + r.realFailed}`,
      'tries per real login (max)': r.realTries.length > 0 ? Math.max(...r.realTries) : null,
      'bogus answers': Object.entries(r.answers).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`).join(', ')
    }
  }
}

export async function runPasswordDos (opts: Options): Promise<Result> {
  const started = performance.now()
  const seconds = opts.quick ? 6 : 15
  const phases: Phase[] = [
    { name: '200 concurrent bogus logins, one client address', workers: 200, spread: false },
    { name: '60 concurrent bogus logins, a new address each', workers: 60, spread: true },
    { name: '200 concurrent bogus logins, a new address each', workers: 200, spread: true }
  ]
  const rows: Row[] = []
  const targets: Target[] = []
  const loads: string[] = []
  let idleRss = NaN
  let idleMs = NaN
  for (const phase of phases) {
    // A fresh server per flood: budgets and RSS start from the same point.
    const server = await startServer()
    const forget = onExit(() => { try { rmSync(server.dataDir, { recursive: true, force: true }) } catch {} })
    try {
      await setUpAccount(server.base)
      if (Number.isNaN(idleMs)) {
        const idle: number[] = []
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now()
          const r = await post(server.base, '/auth/login', { mobile: REAL_MOBILE, password: REAL_PASSWORD }, { 'x-forwarded-for': REAL_ADDRESS })
          if (r.status !== 200) throw new Error(`idle real login answered ${r.status}`)
          idle.push(performance.now() - t0)
        }
        idleMs = median(idle)
        idleRss = rssMiB(server.pid)
        rows.push({ contender: 'no flood', median: idleMs, samples: idle, min: Math.min(...idle), max: Math.max(...idle), ratio: 1, extra: { 'peak RSS MiB': idleRss, 'real logins ok': '5/5' } })
      }
      log(`password-dos: ${phase.name}, ${seconds} s`)
      const loadBefore = loadavg()[0]!
      const r = await flood(server, phase, seconds)
      loads.push(`${phase.name}: ${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`)
      const row = summarize(phase.name, r, idleMs)
      rows.push(row)
      log(`password-dos:   real login median ${fmt(row.median)} ms (${String(row.extra?.['real logins ok'])}), peak RSS ${fmt(r.peakRssMiB)} MiB; ${String(row.extra?.['bogus answers'])}`)
      if (phase.workers === 60 || !phase.spread) {
        targets.push({ name: `peak RSS, ${phase.name}`, target: `< ${RSS_TARGET_MIB} MiB`, value: `${fmt(r.peakRssMiB)} MiB`, met: r.peakRssMiB < RSS_TARGET_MIB })
      }
      targets.push({
        name: `a real login gets through, ${phase.name}`,
        target: 'every one within 10 s',
        value: `${String(row.extra?.['real logins ok'])}, median ${fmt(row.median)} ms`,
        met: r.realFailed === 0 && r.realMs.length > 0
      })
    } finally {
      await server.close()
      forget()
    }
  }

  const table: Table = {
    title: 'A real password login while bogus password logins flood the auth center',
    unit: 'ms (real login, end to end)',
    baseline: 'no flood',
    higherIsBetter: false,
    rows,
    extraColumns: ['peak RSS MiB', 'real logins ok', 'tries per real login (max)', 'bogus answers'],
    notes: [
      'Each worker fires its next bogus login (unknown number, wrong password) as soon as the last is answered; the real user (a process of its own, so the flood generator\'s load is not in its timings) logs in once a second from its own address and waits `Retry-After` after a 503 (up to 10 s per login).',
      'Defaults: scrypt N=2^14, r=8, p=5 (16 MiB a hash), 2 hash slots (one kept for returning addresses), a queue of 16 per lane, a queued check refused after 1 s, 20 failed tries per address per 15 minutes. The real user is a returning one: its address logged in with a password before the flood, so its checks take the known-address lane, served first.',
      `The issue's finding before these changes (N=2^17, no bound): 60 concurrent bogus logins raised RSS from 75 to 588 MiB and a real login took 4 s. Idle RSS here: ${fmt(idleRss)} MiB.`
    ]
  }
  const result: Result = {
    name: 'password-dos',
    title: 'Password hashing under a login flood (issue #12)',
    date: new Date().toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
    mode: opts.quick ? 'quick' : 'full',
    rounds: 1,
    machine: machine(),
    versions: versions([]),
    tables: [table],
    targets,
    notes: [
      `${seconds} s per flood, one fresh auth center (memory store) per flood.`,
      `1-minute load average of the machine before → after each flood (other work on the machine shares its ${machine().cores} cores, and absolute times follow it): ${loads.join('; ')}.`
    ]
  }
  writeResult(result)
  return result
}
