/**
 * Entry point: `pnpm bench [--quick] [--only verify,http,auth,storage,memory,revocation,password,client-size,scale] [--save]`.
 * Runs the benchmarks one after another, writes results/node<major>/<name>.json|md,
 * verify.svg and summary.md (all tables, for the README's section of that Node line).
 */
import { writeFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { BENCH_DIR, NODE_LINE, RESULTS_DIR, SAVE, log, machine, markdown, type Options, type Result } from './harness.js'

const ALL = ['verify', 'http', 'auth', 'storage', 'memory', 'revocation', 'password', 'client-size', 'scale'] as const
type Name = typeof ALL[number]

function parseArgs (argv: string[]): { opts: Options, only: Name[] } {
  let quick = false
  let only: Name[] = [...ALL]
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') continue
    if (a === '--save') continue // read by harness.ts (SAVE), which places RESULTS_DIR
    if (a === '--quick' || a === '-q') quick = true
    else if (a === '--full') quick = false
    else if (a === '--only' || a.startsWith('--only=')) {
      const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i] ?? ''
      only = value.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
        const name = s === 'auth-center' ? 'auth' : s === 'http-route' ? 'http' : s === 'password-dos' ? 'password' : s
        if (!(ALL as readonly string[]).includes(name)) throw new Error(`--only: unknown benchmark "${s}" (known: ${ALL.join(', ')})`)
        return name as Name
      })
    } else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: pnpm bench [--quick] [--only verify,http,auth,storage,memory,revocation,password,client-size,scale] [--save]\n' +
        '  --save  write the committed results/ and the README figures (default: results/unsaved/, git-ignored)\n')
      process.exit(0)
    } else throw new Error(`unknown argument ${a}`)
  }
  return { opts: { quick }, only }
}

async function main (): Promise<void> {
  const { opts, only } = parseArgs(process.argv.slice(2))
  const m = machine()
  log(`bench: ${opts.quick ? 'quick' : 'full'} run of ${only.join(', ')} on Node ${m.node}, ${m.cpu} (${m.cores} cores)`)
  if (typeof globalThis.gc !== 'function') log('bench: note: run with --expose-gc for the memory benchmark (the bench script does)')
  const started = performance.now()
  // Hard bound on the whole run: a hung child or server never keeps it alive.
  const limit = setTimeout(() => {
    log(`bench: stopped after ${opts.quick ? 5 : 26} minutes`)
    process.exit(2)
  }, (opts.quick ? 5 : 26) * 60_000)
  limit.unref()

  const results: Result[] = []
  for (const name of only) {
    const t0 = performance.now()
    log(`\n== ${name}`)
    let result: Result
    if (name === 'verify') result = await (await import('./verify.js')).runVerify(opts)
    else if (name === 'http') result = await (await import('./http-route.js')).runHttp(opts)
    else if (name === 'auth') result = await (await import('./auth-center.js')).runAuthCenter(opts)
    else if (name === 'storage') result = await (await import('./storage.js')).runStorage(opts)
    else if (name === 'memory') result = await (await import('./memory.js')).runMemory(opts)
    else if (name === 'revocation') result = await (await import('./revocation.js')).runRevocation(opts)
    else if (name === 'client-size') result = await (await import('./client-size.js')).runClientSize(opts)
    else if (name === 'scale') result = await (await import('./scale.js')).runScale(opts)
    else result = await (await import('./password-dos.js')).runPasswordDos(opts)
    results.push(result)
    log(`== ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    process.stdout.write('\n' + markdown(result) + '\n')
  }

  // summary.md: the latest table of every benchmark (also those not rerun this time).
  mkdirSync(RESULTS_DIR, { recursive: true })
  const parts: string[] = []
  for (const name of ['verify', 'http-route', 'auth-center', 'storage', 'memory', 'revocation', 'password-dos', 'client-size', 'scale']) {
    const file = join(RESULTS_DIR, `${name}.md`)
    if (existsSync(file)) parts.push(readFileSync(file, 'utf8'))
  }
  const summary = parts.join('\n')
  writeFileSync(join(RESULTS_DIR, 'summary.md'), summary)
  // A full run rewrites the results section of the README (a quick run does not: fewer rounds, noisier).
  if (!opts.quick && SAVE) updateReadme(summary)
  log(`\nbench: done in ${((performance.now() - started) / 1000).toFixed(1)} s; results in ${RESULTS_DIR}` +
    (SAVE ? '' : ' (not saved: rerun with --save to update the committed results and the README)'))
}

// bench/README.md (RESULTS_DIR is results/node<major>, two folders below it).
const README = join(BENCH_DIR, 'README.md')
// One section per Node major line (`node24`, `node20`): a run rewrites only its own runtime's figures.
const START = `<!-- results:start ${NODE_LINE} (written by pnpm bench; do not edit by hand) -->`
const END = `<!-- results:end ${NODE_LINE} -->`

function updateReadme (summary: string): void {
  if (!existsSync(README)) return
  const text = readFileSync(README, 'utf8')
  const a = text.indexOf(START)
  const b = text.indexOf(END)
  if (a === -1 || b === -1 || b < a) {
    log(`bench: README.md has no results markers for ${NODE_LINE}; not updated (add a section with them to publish this runtime's figures)`)
    return
  }
  // Headings inside the README sit one level lower than in the result files.
  const body = summary.replace(/^(#{3,4}) /gm, '$1# ')
  writeFileSync(README, text.slice(0, a + START.length) + '\n\n' + body.trim() + '\n\n' + text.slice(b))
  log(`bench: README.md results for ${NODE_LINE} updated`)
}

main().then(() => process.exit(0), (err: unknown) => {
  log(`bench: failed: ${(err as Error).stack ?? String(err)}`)
  process.exit(1)
})
