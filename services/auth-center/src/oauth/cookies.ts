/**
 * The few cookie operations the auth center's pages need (no dependency): read one
 * cookie from a Cookie header, and serialize a Set-Cookie value.
 */
export function readCookie (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i < 0) continue
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim()
  }
  return undefined
}

export interface CookieOptions {
  maxAgeS?: number
  httpOnly?: boolean
  sameSite?: 'Lax' | 'Strict'
}

/**
 * `__Host-` cookies (RFC 6265bis §4.1.3.2): Secure, Path=/, no Domain, so no
 * subdomain and no plain-http page can set or overwrite them. Browsers accept Secure
 * cookies from http://localhost, which is what development and the tests use.
 */
export function hostCookie (name: string, value: string, opts: CookieOptions = {}): string {
  if (!name.startsWith('__Host-')) throw new TypeError('hostCookie: the name must start with __Host-')
  if (!/^[A-Za-z0-9_.~-]*$/.test(value)) throw new TypeError('hostCookie: value must be a cookie token')
  const parts = [`${name}=${value}`, 'Path=/', 'Secure']
  if (opts.httpOnly !== false) parts.push('HttpOnly')
  parts.push(`SameSite=${opts.sameSite ?? 'Lax'}`)
  if (opts.maxAgeS !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(opts.maxAgeS))}`)
  return parts.join('; ')
}
