/** autocannon, programmatic, bounded in time; returns throughput and latency of one sample. */
import autocannon from 'autocannon'

export interface LoadResult {
  /** 2xx responses per second. */
  rps: number
  /** 2xx responses in all. */
  ok: number
  /** Latency percentiles, ms. */
  p50: number
  p99: number
  non2xx: number
  errors: number
  timeouts: number
}

export interface LoadOptions {
  url: string
  seconds: number
  connections?: number
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  requests?: autocannon.Request[]
}

export async function load (o: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: o.url,
    duration: o.seconds,
    connections: o.connections ?? 10,
    pipelining: 1,
    timeout: 10,
    ...(o.method !== undefined ? { method: o.method } : {}),
    ...(o.headers !== undefined ? { headers: o.headers } : {}),
    ...(o.body !== undefined ? { body: o.body } : {}),
    ...(o.requests !== undefined ? { requests: o.requests } : {})
  })
  const ok = result['2xx']
  return {
    rps: ok / (result.duration || o.seconds),
    ok,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts
  }
}
