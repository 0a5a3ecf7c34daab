import { createHmac, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { currentKey, newKeySet, privateKeyObject, prune, publicJwks, rotateKeySet, type KeySet, type PublicJwk, type SigningAlg } from './key-set.js'
import type { KeyStore } from './key-store.js'

export interface KeyRingOptions {
  /** Primary store (Redis when replicas share keys, else the data directory). */
  store: KeyStore
  /** A second copy, written on every change (the data directory behind Redis), so keys survive Redis losing its data. */
  mirror?: KeyStore
  alg: SigningAlg
  /** How often to look for a rotation done by another process (ms). */
  reloadIntervalMs?: number
  now?: () => number
  /**
   * Called when a periodic reload fails (the store is down, or its keys were re-sealed
   * under a KEK this process does not have): signing goes on with the keys in memory.
   */
  onReloadError?: (err: unknown) => void
}

interface Signer { kid: string, alg: SigningAlg, key: KeyObject | Buffer }

/**
 * The signing keys in use: loaded (or generated) at start, reloaded when another
 * process rotates them, so `keys:rotate` needs no restart.
 */
export class KeyRing {
  #set!: KeySet
  #signer!: Signer
  #macKey!: Buffer
  #jwks!: { keys: PublicJwk[] }
  #jwksAt = 0
  #timer?: NodeJS.Timeout
  readonly #opts: Required<Omit<KeyRingOptions, 'mirror' | 'onReloadError'>> & Pick<KeyRingOptions, 'mirror' | 'onReloadError'>

  private constructor (opts: KeyRingOptions) {
    this.#opts = { reloadIntervalMs: 5000, now: Date.now, ...opts }
  }

  static async open (opts: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(opts)
    const { store, mirror, alg } = ring.#opts
    const now = ring.#opts.now()
    let set = await store.load()
    if (set === null) {
      // Redis may have lost its data: prefer the copy on disk over new keys, so tokens already issued keep verifying.
      set = (await mirror?.load()) ?? newKeySet(alg, now)
      set = await store.init(set)
    }
    if (mirror !== undefined) await mirror.replace((await mirror.load())?.revision ?? 0, set).catch(() => {})
    ring.#use(set)
    if (ring.#opts.reloadIntervalMs > 0) {
      ring.#timer = setInterval(() => { ring.reload().catch((err: unknown) => ring.#opts.onReloadError?.(err)) }, ring.#opts.reloadIntervalMs)
      ring.#timer.unref()
    }
    return ring
  }

  #use (set: KeySet): void {
    this.#set = set
    const cur = currentKey(set)
    this.#signer = {
      kid: cur.kid,
      alg: cur.alg,
      key: cur.alg === 'HS256' ? Buffer.from(cur.privateJwk.k ?? '', 'base64url') : privateKeyObject(cur)
    }
    this.#macKey = Buffer.from(set.refreshMacKey, 'base64url')
    this.#jwksAt = 0
  }

  /** Picks up a rotation written by another process. */
  async reload (): Promise<void> {
    const set = await this.#opts.store.load()
    if (set !== null && set.revision !== this.#set.revision) this.#use(set)
  }

  /** Retires the current key and starts signing with a new one. */
  async rotate (maxTokenLifetimeMs: number, alg: SigningAlg = this.#opts.alg): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const base = (await this.#opts.store.load()) ?? this.#set
      const next = rotateKeySet(base, alg, this.#opts.now(), maxTokenLifetimeMs)
      if (await this.#opts.store.replace(base.revision, next)) {
        await this.#opts.mirror?.replace((await this.#opts.mirror.load())?.revision ?? 0, next)
        this.#use(next)
        return currentKey(next).kid
      }
    }
    throw new Error('key rotation kept conflicting with another writer')
  }

  get kid (): string { return this.#signer.kid }
  get alg (): SigningAlg { return this.#signer.alg }
  get refreshMacKey (): Buffer { return this.#macKey }
  get revision (): number { return this.#set.revision }

  /** Public keys; recomputed at most once a minute so retired keys drop out on time. */
  jwks (): { keys: PublicJwk[] } {
    const now = this.#opts.now()
    if (now - this.#jwksAt > 60_000) {
      this.#jwks = publicJwks({ ...this.#set, keys: prune(this.#set.keys, now) }, now)
      this.#jwksAt = now
    }
    return this.#jwks
  }

  /** Signs a compact JWS with the current key. */
  signJws (header: Record<string, unknown>, payload: Record<string, unknown>): string {
    const s = this.#signer
    const input = `${b64json({ ...header, alg: s.alg, kid: s.kid })}.${b64json(payload)}`
    let sig: Buffer
    switch (s.alg) {
      case 'EdDSA': sig = cryptoSign(null, Buffer.from(input), s.key as KeyObject); break
      case 'ES256': sig = cryptoSign('sha256', Buffer.from(input), { key: s.key as KeyObject, dsaEncoding: 'ieee-p1363' }); break
      case 'RS256': sig = cryptoSign('sha256', Buffer.from(input), s.key as KeyObject); break
      case 'HS256': sig = createHmac('sha256', s.key as Buffer).update(input).digest(); break
    }
    return `${input}.${sig.toString('base64url')}`
  }

  close (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
  }
}

function b64json (v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url')
}
