// Mainland China mobile numbers: 11 digits starting 13-19.
const CN_MOBILE = /^1[3-9]\d{9}$/
const E164 = /^\+[1-9]\d{6,14}$/

/**
 * Normalises a mobile number to E.164. Accepts a Chinese mobile number written
 * nationally (`13800138000`) or in E.164 (`+8613800138000`); spaces and dashes
 * are ignored. Returns undefined for anything else.
 */
export function normalizeMobile (input: string): string | undefined {
  const compact = input.replace(/[\s-]/g, '')
  if (CN_MOBILE.test(compact)) return `+86${compact}`
  if (!E164.test(compact)) return undefined
  if (compact.startsWith('+86') && !CN_MOBILE.test(compact.slice(3))) return undefined
  return compact
}

/** `+8613800138000` -> `+86138****8000`, for logs and SMS sender output. */
export function maskMobile (mobile: string): string {
  return mobile.length > 8 ? `${mobile.slice(0, -8)}****${mobile.slice(-4)}` : '****'
}

/**
 * Whether an E.164 number belongs to one of these country calling codes (`+86`, …).
 * Calling codes are prefix-free (ITU-T E.164), so a prefix match is exact; `+1`
 * covers all of the North American Numbering Plan, Caribbean islands included.
 */
export function inCountries (mobile: string, callingCodes: readonly string[]): boolean {
  return callingCodes.some((cc) => mobile.startsWith(cc))
}
