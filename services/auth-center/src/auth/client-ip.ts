import { isIP } from 'node:net'
import fp from 'fastify-plugin'
import type { FastifyRequest, FastifyServerOptions } from 'fastify'
import type { Config } from '../config.js'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The client's address as every limit and session record uses it: `request.ip`
     * when that is an IP address, else the socket's peer (a proxy we trust may still
     * pass on an `X-Forwarded-For` entry that is no address at all).
     */
    readonly clientIp: string
  }
}

/**
 * Fastify's `trustProxy` for TRUST_PROXY. A hop count becomes "trust the nearest n
 * hops" as a function: Fastify 5 refuses to trust anything for a bare number (it
 * cannot check the immediate peer), which would silently make every client the proxy.
 */
export function trustProxyOption (value: Config['trustProxy']): FastifyServerOptions['trustProxy'] {
  if (typeof value === 'number') return (_address: string, hop: number) => hop < value
  return value
}

/** `::ffff:1.2.3.4` is the IPv4 client 1.2.3.4: one client, one key. */
export function normalizeIp (ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip)
  return mapped !== null ? mapped[1]! : ip.toLowerCase()
}

export function clientIp (request: FastifyRequest): string {
  if (isIP(request.ip) !== 0) return normalizeIp(request.ip)
  const peer = request.raw.socket?.remoteAddress
  return peer !== undefined && isIP(peer) !== 0 ? normalizeIp(peer) : 'unknown'
}

/**
 * The part of an address a per-IP budget counts: the whole IPv4 address, the /64 of
 * an IPv6 one (one subscriber gets a /64 or more, and could walk it address by address).
 */
export function ipBudgetKey (ip: string): string {
  if (isIP(ip) !== 6) return ip
  const [head = '', tail = ''] = ip.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === '' ? [] : tail.split(':')
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left
  return groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':') + '::/64'
}

export default fp(async (app) => {
  app.decorateRequest('clientIp', { getter (this: FastifyRequest) { return clientIp(this) } })
}, { name: 'authcenter-client-ip', fastify: '5.x' })
