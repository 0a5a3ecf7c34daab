import type { SmsSender } from './sender.js'

export interface WebhookSenderOptions {
  url: string
  /** Per attempt. */
  timeoutMs?: number
  /** Attempts after the first. */
  retries?: number
  fetch?: typeof fetch
}

/**
 * POSTs `{mobile, code, expires_in}` to SMS_WEBHOOK_URL (your SMS gateway adapter).
 * Retries network errors and 5xx with a short backoff; a 4xx is final.
 */
export function createWebhookSender (opts: WebhookSenderOptions): SmsSender {
  const timeoutMs = opts.timeoutMs ?? 3000
  const retries = opts.retries ?? 2
  const doFetch = opts.fetch ?? fetch
  return {
    name: 'webhook',
    async send ({ mobile, code, expiresIn }) {
      const body = JSON.stringify({ mobile, code, expires_in: expiresIn })
      let lastError: unknown
      for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)))
        try {
          const res = await doFetch(opts.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(timeoutMs)
          })
          await res.body?.cancel()
          if (res.ok) return
          lastError = new Error(`SMS webhook answered ${res.status}`)
          if (res.status < 500) break
        } catch (err) {
          // Never rethrow the request: its body holds the code.
          lastError = new Error(`SMS webhook unreachable: ${(err as Error).name}`)
        }
      }
      throw lastError
    }
  }
}
