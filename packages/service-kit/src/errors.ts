/**
 * The kit answers with the calling service's own coded errors (each service keeps one
 * error registry, checked against its README), so it takes their constructors.
 */
export type CodedErrorConstructor = new () => Error & { code: string }
