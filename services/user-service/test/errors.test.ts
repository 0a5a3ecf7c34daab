import { readFile } from 'node:fs/promises'
import t from 'tap'
import { ERROR_CODES } from '../src/errors.js'
import * as errors from '../src/errors.js'

t.test('every error code is documented in the README', async (t) => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  for (const code of ERROR_CODES) t.match(readme, `| \`${code}\` |`, code)
})

t.test('every declared error is in ERROR_CODES', async (t) => {
  for (const [name, value] of Object.entries(errors)) {
    if (typeof value !== 'function' || !name.endsWith('Error')) continue
    const err = new (value as new (...args: unknown[]) => { code: string })('x')
    t.ok((ERROR_CODES as readonly string[]).includes(err.code), `${name} -> ${err.code}`)
  }
})
