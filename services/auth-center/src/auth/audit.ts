import type { Deps } from '../context.js'
import type { NewSecurityEvent } from '../store/store.js'

/**
 * Records a security event in the audit log (GET /admin/events): one store write. A
 * failure to record never fails the request it describes; it is logged at warn. Callers
 * pass ids, reasons and addresses only: never a token, code, password or key.
 */
export async function audit (deps: Deps, event: Omit<NewSecurityEvent, 'at'>): Promise<void> {
  try {
    await deps.store.recordEvent({ at: deps.now(), ...event })
  } catch (err) {
    deps.log.warn({ err: err instanceof Error ? err.message : String(err), type: event.type }, 'security event not recorded')
  }
}
