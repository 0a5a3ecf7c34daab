/**
 * A hand-written SVG bar chart of the verify benchmark: one panel per
 * algorithm and scenario, one horizontal bar per contender (median
 * verifies/s), labelled with the value and the ratio to raw node:crypto.
 */
import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { RESULTS_DIR, type Result, fmt } from './harness.js'

const COLORS: Record<string, string> = {
  'node:crypto verify (sync)': '#7f7f7f',
  'node:crypto verify (async fn)': '#b0b0b0',
  'node:crypto verify + JSON.parse (sync)': '#c7c7c7',
  'libsodium verify (raw)': '#8c564b',
  '@authcenter/verifier': '#d62728',
  '@authcenter/verifier (node:crypto Ed25519)': '#e377c2',
  '@authcenter/verifier (cache off)': '#ff9896',
  'jose jwtVerify': '#1f77b4',
  'fast-jwt (cache off)': '#2ca02c',
  'fast-jwt (cache on)': '#98df8a',
  jsonwebtoken: '#9467bd'
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export function renderVerifyChart (result: Result, file = join(RESULTS_DIR, 'verify.svg')): string {
  const labelW = 250
  const barW = 420
  const valueW = 150
  const barH = 16
  const gap = 4
  const panelPad = 34
  const columns = 2
  const panelW = labelW + barW + valueW
  const tables = result.tables
  const rowsPerPanel = Math.max(...tables.map((t) => t.rows.length))
  const panelH = panelPad + rowsPerPanel * (barH + gap) + 12
  const width = columns * panelW + 40
  const headerH = 56
  const height = headerH + Math.ceil(tables.length / columns) * panelH + 24
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`)
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`)
  out.push(`<text x="20" y="24" font-size="16" font-weight="bold">${esc(result.title)}: verifies per second (median of ${result.rounds} rounds, higher is better)</text>`)
  out.push(`<text x="20" y="42" fill="#555">${esc(`${result.date.slice(0, 16).replace('T', ' ')} UTC · Node ${result.machine.node} · ${result.machine.cpu} (${result.machine.cores} cores) · ${result.mode} mode · ratio = vs raw node:crypto verify (sync)`)}</text>`)
  tables.forEach((t, i) => {
    const x0 = 20 + (i % columns) * panelW
    const y0 = headerH + Math.floor(i / columns) * panelH
    const max = Math.max(...t.rows.map((r) => r.median ?? 0))
    out.push(`<text x="${x0}" y="${y0 + 18}" font-weight="bold">${esc(t.title)}</text>`)
    t.rows.forEach((r, j) => {
      const y = y0 + panelPad + j * (barH + gap)
      out.push(`<text x="${x0 + labelW - 6}" y="${y + barH - 4}" text-anchor="end">${esc(r.contender)}</text>`)
      if (r.median === null) {
        out.push(`<text x="${x0 + labelW + 4}" y="${y + barH - 4}" fill="#999" font-style="italic">${esc(r.note?.slice(0, 60) ?? 'not supported')}</text>`)
        return
      }
      const w = max > 0 ? Math.max(1, (r.median / max) * barW) : 1
      out.push(`<rect x="${x0 + labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[r.contender] ?? '#444'}"/>`)
      const ratio = r.ratio === null ? '' : ` (${r.ratio.toFixed(2)}×)`
      out.push(`<text x="${x0 + labelW + w + 4}" y="${y + barH - 4}">${esc(fmt(r.median) + ratio)}</text>`)
    })
  })
  out.push('</svg>')
  const svg = out.join('\n') + '\n'
  mkdirSync(RESULTS_DIR, { recursive: true })
  writeFileSync(file, svg)
  return svg
}
