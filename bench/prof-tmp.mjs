// temporary profiling driver (not committed): node bench/prof-tmp.mjs <base> <seconds>
import autocannon from 'autocannon'
const base = process.argv[2]; const secs = Number(process.argv[3] ?? 5)
const M = (i) => `+86138${String(i).padStart(8, '0')}`
const queue = []
for (let i = 0; i < 30; i++) {
  const r = await fetch(base + '/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mobile: M(i), code: '123456' }) })
  queue.push((await r.json()).refresh_token)
}
let failed = 0
const res = await autocannon({ url: base + '/auth/refresh', duration: secs, connections: 10, pipelining: 1, requests: [{ method: 'POST', path: '/auth/refresh', headers: { 'content-type': 'application/json' },
  setupRequest: (req) => { req.body = JSON.stringify({ refresh_token: queue.shift() }); return req },
  onResponse: (status, body) => { if (status === 200) queue.push(JSON.parse(body).refresh_token); else failed++ } }] })
console.log('refresh rps', res['2xx'] / res.duration, 'p99', res.latency.p99, 'failed', failed)
