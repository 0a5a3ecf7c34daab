/**
 * The real user of the password-dos benchmark, in a process of its own so that its
 * timings do not include the flood's load generator (its event loop is busy with
 * hundreds of workers). argv: base URL, mobile, password, address, seconds.
 * Logs in once a second, waiting `Retry-After` after a 503 or 429 (up to 10 s per
 * login), and sends `{ ms: number[], tries: number[], failed: number }` over IPC.
 */
import { performance } from 'node:perf_hooks'

const [base, mobile, password, address, seconds] = process.argv.slice(2) as [string, string, string, string, string]
const until = performance.now() + Number(seconds) * 1000
const out = { ms: [] as number[], tries: [] as number[], failed: 0, unexpected: [] as string[] }

process.send!({ ready: true })
await new Promise<void>((resolve) => process.once('message', () => resolve()))

while (performance.now() < until) {
  const t0 = performance.now()
  let tries = 0
  let ok = false
  while (performance.now() - t0 < 10_000) {
    tries++
    const res = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({ mobile, password })
    })
    await res.text()
    if (res.status === 200) { ok = true; break }
    if (res.status !== 503 && res.status !== 429) { out.unexpected.push(String(res.status)); break }
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Number(res.headers.get('retry-after') ?? '1')) * 1000))
  }
  const ms = performance.now() - t0
  if (ok) { out.ms.push(ms); out.tries.push(tries) } else out.failed++
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - ms)))
}
process.send!(out, () => process.exit(0))
