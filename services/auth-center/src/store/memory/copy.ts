/** Optional fields stay absent (not present-but-undefined), like a Redis hash round-trip. */
export function withoutUndefined<T extends object> (o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) {
    if (o[k] === undefined) Reflect.deleteProperty(o, k)
  }
  return o
}
