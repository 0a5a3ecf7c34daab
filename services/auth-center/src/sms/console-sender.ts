import { maskMobile } from '../auth/mobile.js'
import type { SmsSender } from './sender.js'

/**
 * Development sender: prints the code on the console instead of sending it. It writes
 * to stdout directly, not through the logger, so log shipping never carries codes;
 * the app warns at start that it is in use.
 */
export function createConsoleSender (write: (line: string) => void = (l) => { process.stdout.write(l + '\n') }): SmsSender {
  return {
    name: 'console',
    async send ({ mobile, code, expiresIn }) {
      write(`[sms:console] code for ${maskMobile(mobile)} (${mobile}): ${code} (valid ${expiresIn}s)`)
    }
  }
}
