/**
 * Shared harness: rounds that alternate the contenders, medians, ratios to a
 * baseline measured in the same run, machine and library versions, and the
 * `results/node<major>/<name>.json` + `<name>.md` files.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem, type as osType, release } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')
/** `node24`, `node20`…: each Node major line keeps its own results, so a run on one never overwrites another's. */
export const NODE_LINE = `node${process.versions.node.split('.')[0]}`
/**
 * `pnpm bench --save` writes the committed results/node<major>/ (and the README's figures); any other
 * run writes results/unsaved/node<major>/, which git ignores, so benchmarking a fresh clone leaves the
 * tree clean.
 */
export const SAVE = process.argv.includes('--save')
export const RESULTS_DIR = join(BENCH_DIR, 'results', ...(SAVE ? [] : ['unsaved']), NODE_LINE)

export interface Options {
  quick: boolean
}

/** Median of a list (mean of the two middle values for an even count). */
export function median (values: readonly number[]): number {
  if (values.length === 0) return NaN
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** One contender of a comparison: `measure` returns one sample (higher is better unless the table says otherwise). */
export interface Contender {
  name: string
  /** Why it cannot take part (reported as such, never faked). */
  unsupported?: string
  note?: string
  measure?: (round: number) => Promise<number>
}

export interface Row {
  contender: string
  /** Median of the samples; null when unsupported. */
  median: number | null
  samples: number[]
  min: number | null
  max: number | null
  /** median / baseline median (null when either is missing). */
  ratio: number | null
  note?: string
  /** Extra columns (e.g. p99 latency), medians over the rounds. */
  extra?: Record<string, number | string | null>
}

export interface Table {
  title: string
  unit: string
  baseline: string
  higherIsBetter: boolean
  rows: Row[]
  extraColumns?: string[]
  notes?: string[]
}

export interface Target {
  name: string
  target: string
  value: string
  met: boolean | null
  why?: string
}

export interface Result {
  name: string
  title: string
  date: string
  durationSeconds: number
  mode: 'quick' | 'full'
  rounds: number
  machine: Machine
  versions: Record<string, string>
  tables: Table[]
  targets: Target[]
  notes: string[]
}

export interface Machine {
  node: string
  v8: string
  openssl: string
  os: string
  cpu: string
  cores: number
  memoryGiB: number
}

export function machine (): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown'
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8')
    const m = /^model name\s*:\s*(.+)$/m.exec(info)
    if (m !== null) cpu = m[1]!.trim()
  } catch {}
  return {
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl ?? '',
    os: `${osType()} ${release()}`,
    cpu,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30 * 10) / 10
  }
}

/** Installed version of a dependency of bench (read from its package.json, via node_modules). */
export function versionOf (name: string): string {
  for (const base of [join(BENCH_DIR, 'node_modules'), join(BENCH_DIR, '..', 'node_modules')]) {
    try {
      return (JSON.parse(readFileSync(join(base, name, 'package.json'), 'utf8')) as { version: string }).version
    } catch {}
  }
  return 'unknown'
}

export function versions (names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = { node: process.version, openssl: process.versions.openssl ?? '' }
  for (const n of names) out[n] = versionOf(n)
  return out
}

export interface CompareOptions {
  title: string
  unit: string
  baseline: string
  rounds: number
  higherIsBetter?: boolean
  contenders: Contender[]
  notes?: string[]
  /**
   * Instead of one `measure` per contender: one call per round that measures every
   * live contender (finely interleaved inside the round) and returns a sample for each.
   */
  measureRound?: (round: number, live: readonly string[]) => Promise<Map<string, number>>
  /** Called after each sample; may return extra columns for that sample (e.g. p99). */
  extra?: (contender: string) => Record<string, number> | undefined
  log?: (line: string) => void
}

/**
 * Runs `rounds` rounds; in each round every supported contender gives one
 * sample. The order rotates every round (A B C, B C A, C A B, …) so that no
 * contender always runs first or last on a noisy machine.
 */
export async function compare (o: CompareOptions): Promise<Table> {
  const live = o.contenders.filter((c) => c.unsupported === undefined && (c.measure !== undefined || o.measureRound !== undefined))
  const samples = new Map<string, number[]>(o.contenders.map((c) => [c.name, []]))
  const extras = new Map<string, Array<Record<string, number>>>(o.contenders.map((c) => [c.name, []]))
  for (let round = 0; round < o.rounds; round++) {
    if (o.measureRound !== undefined) {
      const values = await o.measureRound(round, live.map((c) => c.name))
      for (const c of live) {
        const value = values.get(c.name)!
        samples.get(c.name)!.push(value)
        o.log?.(`  ${o.title} | round ${round + 1}/${o.rounds} | ${c.name}: ${fmt(value)} ${o.unit}`)
      }
      continue
    }
    const order = live.map((_, i) => live[(i + round) % live.length]!)
    for (const c of order) {
      const value = await c.measure!(round)
      samples.get(c.name)!.push(value)
      const x = o.extra?.(c.name)
      if (x !== undefined) extras.get(c.name)!.push(x)
      o.log?.(`  ${o.title} | round ${round + 1}/${o.rounds} | ${c.name}: ${fmt(value)} ${o.unit}`)
    }
  }
  const baseMedian = median(samples.get(o.baseline) ?? [])
  const rows: Row[] = o.contenders.map((c) => {
    const s = samples.get(c.name)!
    if (c.unsupported !== undefined || s.length === 0) {
      return { contender: c.name, median: null, samples: [], min: null, max: null, ratio: null, note: c.unsupported ?? c.note }
    }
    const m = median(s)
    const row: Row = {
      contender: c.name,
      median: m,
      samples: s,
      min: Math.min(...s),
      max: Math.max(...s),
      ratio: Number.isFinite(baseMedian) && baseMedian > 0 ? m / baseMedian : null
    }
    if (c.note !== undefined) row.note = c.note
    const ex = extras.get(c.name)!
    if (ex.length > 0) {
      row.extra = {}
      for (const key of Object.keys(ex[0]!)) row.extra[key] = median(ex.map((e) => e[key]!).filter((v) => v !== undefined))
    }
    return row
  })
  const extraColumns = [...new Set(rows.flatMap((r) => Object.keys(r.extra ?? {})))]
  const table: Table = { title: o.title, unit: o.unit, baseline: o.baseline, higherIsBetter: o.higherIsBetter ?? true, rows, notes: o.notes ?? [] }
  if (extraColumns.length > 0) table.extraColumns = extraColumns
  return table
}

export function row (table: Table, contender: string): Row | undefined {
  return table.rows.find((r) => r.contender === contender)
}

/** A number for tables: 3 significant digits, thousands separated. */
export function fmt (value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a'
  const abs = Math.abs(value)
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US')
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

export function ratioText (value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(2)}×`
}

export function markdown (r: Result): string {
  const out: string[] = []
  out.push(`### ${r.title}`, '')
  out.push(`${r.date} · ${r.mode} mode · ${r.rounds} rounds (median) · ${r.durationSeconds.toFixed(0)} s · Node ${r.machine.node} · ${r.machine.cpu} (${r.machine.cores} cores) · ${r.machine.os}`, '')
  out.push(`Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`, '')
  for (const t of r.tables) {
    out.push(`#### ${t.title}`, '')
    const extra = t.extraColumns ?? []
    const hasBaseline = t.baseline !== ''
    out.push(`| contender | median ${t.unit} | min–max |${hasBaseline ? ` vs ${t.baseline} |` : ''} ${extra.map((e) => `${e} |`).join(' ')} note |`)
    out.push(`|---|---:|---:|${hasBaseline ? '---:|' : ''}${extra.map(() => '---:|').join('')}---|`)
    for (const row of t.rows) {
      const range = row.min === null ? '' : `${fmt(row.min)}–${fmt(row.max)}`
      const ex = extra.map((e) => {
        const v = row.extra?.[e]
        return `${typeof v === 'number' ? fmt(v) : (v ?? '')} |`
      }).join(' ')
      const name = row.contender === t.baseline ? `${row.contender} (baseline)` : row.contender
      out.push(`| ${name} | ${fmt(row.median)} | ${range} |${hasBaseline ? ` ${ratioText(row.ratio)} |` : ''} ${ex} ${(row.note ?? '').replace(/\|/g, '\\|')} |`)
    }
    out.push('')
    for (const n of t.notes ?? []) out.push(`- ${n}`)
    if ((t.notes ?? []).length > 0) out.push('')
  }
  if (r.targets.length > 0) {
    out.push('#### Targets', '', '| target | wanted | measured | met |', '|---|---|---|---|')
    for (const t of r.targets) out.push(`| ${t.name} | ${t.target} | ${t.value} | ${t.met === null ? 'n/a' : t.met ? 'yes' : `**no**${t.why !== undefined ? ` (${t.why})` : ''}`} |`)
    out.push('')
  }
  for (const n of r.notes) out.push(`- ${n}`)
  if (r.notes.length > 0) out.push('')
  return out.join('\n')
}

export function writeResult (r: Result): void {
  mkdirSync(RESULTS_DIR, { recursive: true })
  writeFileSync(join(RESULTS_DIR, `${r.name}.json`), JSON.stringify(r, null, 2) + '\n')
  writeFileSync(join(RESULTS_DIR, `${r.name}.md`), markdown(r) + '\n')
}

// ---- child processes -------------------------------------------------------

const children = new Set<ChildProcess>()

const exitHooks: Array<() => void> = []

/** Synchronous cleanup for an exit that skips the normal `finally` paths (timeout, signal, crash). */
export function onExit (hook: () => void): () => void {
  exitHooks.push(hook)
  return () => {
    const i = exitHooks.indexOf(hook)
    if (i !== -1) exitHooks.splice(i, 1)
  }
}

let exiting = false
function killAll (): void {
  if (exiting) return
  exiting = true
  for (const hook of exitHooks) {
    try { hook() } catch {}
  }
  for (const c of children) {
    try { c.kill('SIGKILL') } catch {}
  }
  children.clear()
}
process.on('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { killAll(); process.exit(130) })
}

/** Every child we start, so that an error or exit of the bench kills them all. */
export function track (child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Forks a .ts module of this package (through tsx) and waits for its first IPC message (e.g. `{ port }`). */
export async function forkTs<T> (
  file: string,
  args: string[] = [],
  opts: { env?: NodeJS.ProcessEnv, execArgv?: string[], timeoutMs?: number } = {}
): Promise<{ child: ChildProcess, message: T }> {
  const child = track(fork(join(BENCH_DIR, 'src', file), args, {
    execArgv: ['--import', 'tsx', ...(opts.execArgv ?? [])],
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  }))
  const message = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} ${args.join(' ')}: no message within ${opts.timeoutMs ?? 30000} ms`)), opts.timeoutMs ?? 30000)
    child.once('message', (m) => { clearTimeout(timer); resolve(m as T) })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${file} ${args.join(' ')} exited with ${String(code)}`)) })
  })
  child.removeAllListeners('exit')
  child.once('exit', () => children.delete(child))
  return { child, message }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. */
export async function stopChild (child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
  children.delete(child)
}

export function log (line: string): void {
  process.stderr.write(line + '\n')
}
