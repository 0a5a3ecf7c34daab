/**
 * Benchmark 4: heap held by a verifier after verifying 100,000 distinct
 * tokens (EdDSA), each contender in a fresh process with --expose-gc:
 * heapUsed after a full GC, minus heapUsed before the first verify (the
 * tokens themselves are loaded before, so they are not counted).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { type Options, type Result, type Row, type Target, forkTs, log, machine, versions, writeResult, fmt } from './harness.js'
import { keyPair, tokenPool } from './tokens.js'

interface Measure { before: number, after: number, rss: number, seconds: number, verified: number }

const MODES = [
  { mode: 'ours-cache', name: '@authcenter/verifier (cache as large as the token count)', note: 'LRU of verified tokens keyed by the token itself' },
  { mode: 'ours', name: '@authcenter/verifier (default cache, 10,000 entries)', note: 'bounded: stops growing at 10,000 entries' },
  { mode: 'fast-jwt-cache', name: 'fast-jwt (cache as large as the token count)', note: 'LRU of verified tokens, keyed by a hash of the token' },
  { mode: 'fast-jwt', name: 'fast-jwt (cache off)', note: '' }
] as const

export async function runMemory (opts: Options): Promise<Result> {
  const started = performance.now()
  // Quick mode: 20,000 tokens (the 100,000 figure is the per-token cost times 100,000).
  const count = opts.quick ? 20_000 : 100_000
  const kp = keyPair('EdDSA')
  log(`memory: signing ${count.toLocaleString('en-US')} EdDSA tokens`)
  const tokens = tokenPool(kp, count)
  const dir = mkdtempSync(join(tmpdir(), 'authcenter-bench-mem-'))
  const file = join(dir, 'tokens.json')
  writeFileSync(file, JSON.stringify({ jwk: kp.jwk, tokens }))
  // Quick mode scales 20,000 tokens to 100,000: only for caches that grow with the token count.
  const modes = opts.quick ? [MODES[0], MODES[2]] : MODES
  const rows: Row[] = []
  try {
    // Two at a time (one per core): each is its own process, so their heaps do not mix.
    const results = new Map<string, Measure>()
    for (let i = 0; i < modes.length; i += 2) {
      await Promise.all(modes.slice(i, i + 2).map(async (m) => {
        const { message } = await forkTs<Measure>('servers/memory-worker.ts', [m.mode, file], { execArgv: ['--expose-gc', '--max-old-space-size=2048'], timeoutMs: 120_000 })
        results.set(m.mode, message)
        log(`memory: ${m.name}: +${fmt((message.after - message.before) / 2 ** 20)} MiB after ${message.verified} verifies in ${message.seconds.toFixed(1)} s`)
      }))
    }
    for (const m of modes) {
      const r = results.get(m.mode)!
      const delta = (r.after - r.before) / 2 ** 20
      rows.push({
        contender: m.name,
        median: delta,
        samples: [delta],
        min: delta,
        max: delta,
        ratio: null,
        ...(m.note !== '' ? { note: m.note } : {}),
        extra: { 'bytes/token': (r.after - r.before) / count, 'heap after MiB': r.after / 2 ** 20, 'verifies/s': r.verified / r.seconds }
      })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const ours = rows.find((r) => r.contender === MODES[0].name)
  const scale = 100_000 / count
  if (scale !== 1) for (const r of rows) r.extra = { ...r.extra, 'MiB at 100,000 (est.)': (r.median ?? 0) * scale }
  const targets: Target[] = [{
    name: 'verifier heap with 100,000 cached verified tokens',
    target: 'reported (bounded cache)',
    value: `+${fmt((ours?.median ?? 0) * scale)} MiB${scale !== 1 ? ` (estimated from ${count.toLocaleString('en-US')})` : ''}`,
    met: null,
    why: 'per-entry cost of a full cache; the default cache is capped at 10,000 entries'
  }]
  const result: Result = {
    name: 'memory',
    title: `Verifier memory after ${count.toLocaleString('en-US')} distinct verified tokens`,
    date: new Date().toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
    mode: opts.quick ? 'quick' : 'full',
    rounds: 1,
    machine: machine(),
    versions: versions(['@authcenter/verifier', 'fast-jwt']),
    tables: [{
      title: `Heap growth after verifying ${count.toLocaleString('en-US')} distinct EdDSA tokens (${tokens[0]!.length} bytes each)`,
      unit: 'MiB',
      baseline: '',
      higherIsBetter: false,
      rows,
      extraColumns: ['bytes/token', 'heap after MiB', 'verifies/s', ...(count !== 100_000 ? ['MiB at 100,000 (est.)'] : [])],
      notes: [
        'Each contender runs in a fresh process with --expose-gc; the tokens are loaded before the first measurement, so only what the verifier keeps is counted. heapUsed after three full GCs; one measurement per contender (heap after GC is deterministic to a few KiB).',
        ...(opts.quick ? [`Quick mode: ${count.toLocaleString('en-US')} tokens (the last column scales to 100,000) and no fast-jwt (cache off); the full run measures 100,000.`] : [])
      ]
    }],
    targets,
    notes: []
  }
  writeResult(result)
  return result
}
