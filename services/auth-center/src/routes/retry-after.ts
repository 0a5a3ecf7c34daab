import type { FastifyReply } from 'fastify'
import { RetryAfter } from '../auth/rate-limit.js'

/** Turns a RetryAfter into its error with a `Retry-After` header set. */
export async function withRetryAfter<T> (reply: FastifyReply, work: Promise<T>): Promise<T> {
  try {
    return await work
  } catch (err) {
    if (err instanceof RetryAfter) {
      reply.header('retry-after', String(err.seconds))
      throw err.cause
    }
    throw err
  }
}
