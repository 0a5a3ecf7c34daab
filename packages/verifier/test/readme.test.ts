import t from 'tap'
import { readFileSync } from 'node:fs'
import { errorCodes } from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

t.test('the README error table lists every code of errors.ts with its status, and no other', async (t) => {
  const rows = new Map<string, number>()
  for (const match of readme.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) rows.set(match[1]!, Number(match[2]))
  for (const [code, { statusCode }] of Object.entries(errorCodes)) {
    t.equal(rows.get(code), statusCode, `${code} is documented with ${statusCode}`)
  }
  t.same([...rows.keys()].sort(), Object.keys(errorCodes).sort())
})
