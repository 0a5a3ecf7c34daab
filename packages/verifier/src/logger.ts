/**
 * A pino-like logger (pino, Fastify's `app.log`), called as `logger.warn({ ...fields }, 'message')`.
 * The verifier logs state changes only (a key set that cannot be loaded, and why), never a token.
 */
export interface VerifierLogger {
  warn: (obj: Record<string, unknown>, msg: string) => void
  info: (obj: Record<string, unknown>, msg: string) => void
}

function format (obj: Record<string, unknown>, msg: string): string {
  const fields = Object.keys(obj).length === 0 ? '' : ` ${JSON.stringify(obj)}`
  return `@authcenter/verifier: ${msg}${fields}`
}

/** The default: stderr, so a service without a logger still hears about a misconfigured issuer. */
export const consoleLogger: VerifierLogger = {
  warn: (obj, msg) => console.warn(format(obj, msg)),
  info: (obj, msg) => console.warn(format(obj, msg))
}

/** Whether `value` has the `warn` and `info` methods the verifier calls. */
export function isLogger (value: unknown): value is VerifierLogger {
  return typeof value === 'object' && value !== null &&
    typeof (value as Record<string, unknown>).warn === 'function' && typeof (value as Record<string, unknown>).info === 'function'
}
