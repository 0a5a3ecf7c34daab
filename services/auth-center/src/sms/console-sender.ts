import { maskMobile } from '../auth/mobile.js'
import type { SmsSender } from './sender.js'

/**
 * Development sender: prints the code on the console instead of sending it, with the
 * number masked (the code is what the developer needs; a full number in a terminal
 * scrollback or a CI log is personal data). It writes to stdout directly, not through
 * the logger, so log shipping never carries codes; the app warns at start that it is
 * in use, and NODE_ENV=production refuses it (config.ts).
 */
export function createConsoleSender (write: (line: string) => void = (l) => { process.stdout.write(l + '\n') }): SmsSender {
  return {
    name: 'console',
    async send ({ mobile, code, expiresIn }) {
      write(`[sms:console] code for ${maskMobile(mobile)}: ${code} (valid ${expiresIn}s)`)
    }
  }
}
