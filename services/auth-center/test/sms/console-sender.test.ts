import t from 'tap'
import { createConsoleSender } from '../../src/sms/console-sender.js'

t.test('the console sender prints the code with the number masked', async (t) => {
  // The finding: it printed "+86138****8000 (+8613800138000)", the full number beside the masked one.
  const lines: string[] = []
  await createConsoleSender((l) => { lines.push(l) }).send({ mobile: '+8613800138000', code: '493027', expiresIn: 300 })
  t.strictSame(lines, ['[sms:console] code for +86138****8000: 493027 (valid 300s)'])
  t.notOk(lines[0]!.includes('13800138000'))
})
