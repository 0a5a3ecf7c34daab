/**
 * Benchmark: the size of @authcenter/client's browser bundle (issue #16). The bundle
 * is packages/client/dist/authcenter-client.min.js, made by the package's build
 * (esbuild: one minified ESM file of the root export; the Node-only `./node` entry is
 * not in it). Reported raw, gzip (level 9) and brotli (quality 11); the target is
 * under 6 KB gzipped. A size, not a timing: one round, exact.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { BENCH_DIR, type Options, type Result, type Row, machine, versions, writeResult } from './harness.js'

const BUNDLE = join(BENCH_DIR, '..', 'packages', 'client', 'dist', 'authcenter-client.min.js')
const TARGET_BYTES = 6 * 1024

const row = (contender: string, bytes: number, note: string): Row =>
  ({ contender, median: bytes, samples: [bytes], min: bytes, max: bytes, ratio: null, note })

export async function runClientSize (opts: Options): Promise<Result> {
  const started = performance.now()
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run pnpm build first`)
  const code = readFileSync(BUNDLE)
  const gzip = gzipSync(code, { level: 9 }).length
  const brotli = brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length
  const result: Result = {
    name: 'client-size',
    title: 'Browser bundle of @authcenter/client (issue #16)',
    date: new Date().toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
    mode: opts.quick ? 'quick' : 'full',
    rounds: 1,
    machine: machine(),
    versions: versions([]),
    tables: [{
      title: 'authcenter-client.min.js (createClient, storage, IndexedDB, DPoP, cross-tab lock, errors)',
      unit: 'bytes',
      baseline: '',
      higherIsBetter: false,
      rows: [
        row('minified', code.length, 'esbuild --minify, ESM, es2022'),
        row('minified + gzip', gzip, 'gzip -9'),
        row('minified + brotli', brotli, 'brotli -q 11')
      ]
    }],
    targets: [{ name: 'bundle size', target: `< ${TARGET_BYTES} bytes gzipped`, value: `${gzip} bytes (${(gzip / 1024).toFixed(2)} KiB)`, met: gzip < TARGET_BYTES }],
    notes: ['No runtime dependencies: the bundle is the whole client (fetch, WebCrypto, IndexedDB, Web Locks and BroadcastChannel come from the platform).']
  }
  writeResult(result)
  return result
}
