import t from 'tap'
import { readFile } from 'node:fs/promises'
import { errorCodes } from '../src/errors.js'

t.test('the README error table lists every code the auth center answers with', async (t) => {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8')
  const table = readme.slice(readme.indexOf('## Errors'), readme.indexOf('## Configuration'))
  for (const code of errorCodes) t.match(table, `\`${code}\``, code)
})

t.test('the README configuration table lists every variable the auth center reads', async (t) => {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8')
  const src = await readFile(new URL('../src/config.ts', import.meta.url), 'utf8')
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## The six token patterns'))
  const vars = [...src.matchAll(/^ {2}([A-Z][A-Z0-9_]+): Type\./gm)].map((m) => m[1]!)
  t.ok(vars.length > 10)
  for (const v of vars.filter((v) => v !== 'NODE_ENV')) t.match(table, `\`${v}\``, v)
})
