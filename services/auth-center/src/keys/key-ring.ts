import { createHmac, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { ed25519, type Ed25519, type Ed25519PrivateKey } from '@authcenter/verifier/ed25519'
import { ID_TOKEN_ALG, currentIdTokenKey, currentKey, newKeySet, privateKeyObject, prune, publicJwks, rotateKeySet, signsFrom, withIdTokenKey, type KeySet, type PublicJwk, type SigningAlg, type StoredKey } from './key-set.js'
import { scheduleKeySet, scheduleTickMs, type KeySchedule } from './key-schedule.js'
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
  /** Rotate by themselves (AUTH_KEY_ROTATION_INTERVAL); absent: only `rotate()` (keys:rotate) does. */
  schedule?: KeySchedule
  /** Called when this process published keys ahead for the schedule (another replica's are only loaded). */
  onScheduled?: (kid: string, activatesAt: number) => void
  /** Signs EdDSA: libsodium when it loads, else node:crypto (`AUTHCENTER_ED25519` forces one); the same bytes either way. */
  ed25519?: Ed25519
}

/**
 * A key prepared once when it starts signing (for EdDSA, imported by the Ed25519 backend), never per token.
 * `headers`: the encoded protected header of each frozen header object signed with it
 * (access tokens pass one constant), so the same bytes are not made again per token.
 */
interface Signer { kid: string, alg: SigningAlg, key: KeyObject | Buffer, ed?: Ed25519PrivateKey, headers: WeakMap<object, string> }

/**
 * The signing keys in use: loaded (or generated) at start, reloaded when another
 * process rotates them, so `keys:rotate` needs no restart.
 */
export class KeyRing {
  #set!: KeySet
  #signer!: Signer
  #idSigner: Signer | undefined
  #macKey!: Buffer
  #pepper!: Buffer
  #jwks!: { keys: PublicJwk[] }
  #jwksAt = 0
  #timer?: NodeJS.Timeout
  /** When a key published ahead starts signing: the signers are chosen again then. */
  #switchAt = Infinity
  readonly #opts: Required<Omit<KeyRingOptions, 'mirror' | 'onReloadError' | 'schedule' | 'onScheduled'>> & Pick<KeyRingOptions, 'mirror' | 'onReloadError' | 'schedule' | 'onScheduled'>

  private constructor (opts: KeyRingOptions) {
    // Chosen once: a wrong AUTHCENTER_ED25519 (or =sodium without sodium-native) stops the start.
    this.#opts = { reloadIntervalMs: 5000, now: Date.now, ...opts, ed25519: opts.ed25519 ?? ed25519() }
  }

  static async open (opts: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(opts)
    const { store, mirror, alg } = ring.#opts
    let now = ring.#opts.now()
    let set = await store.load()
    if (set === null) {
      // Redis may have lost its data: prefer the copy on disk over new keys, so tokens already issued keep verifying.
      set = (await mirror?.load()) ?? newKeySet(alg, now)
      set = await store.init(set)
      // Replicas starting together on an empty store: the set that won init may have been
      // made a few ms after our `now`, and its keys sign only from their creation.
      now = ring.#opts.now()
    }
    // A key set from before ID-token keys gets one (when another replica adds it first, take theirs).
    const upgraded = withIdTokenKey(set, now)
    if (upgraded !== set) set = (await store.replace(set.revision, upgraded)) ? upgraded : ((await store.load()) ?? set)
    // The mirror is a copy of the primary: overwritten, even when it was sealed under a retired KEK.
    if (mirror !== undefined) await mirror.copy(set).catch(() => {})
    ring.#use(set)
    const { schedule } = ring.#opts
    if (schedule !== undefined) await ring.runSchedule()
    // With a schedule, look often enough that a key published ahead reaches every replica's JWKS well before it signs.
    const every = schedule === undefined ? ring.#opts.reloadIntervalMs : Math.min(ring.#opts.reloadIntervalMs, scheduleTickMs(schedule.intervalMs))
    if (every > 0) {
      const tick = schedule === undefined ? async () => await ring.reload() : async () => await ring.runSchedule()
      ring.#timer = setInterval(() => { tick().catch((err: unknown) => ring.#opts.onReloadError?.(err)) }, every)
      ring.#timer.unref()
    }
    return ring
  }

  #use (set: KeySet): void {
    const now = this.#opts.now()
    this.#set = set
    const ed = this.#opts.ed25519
    // A signer that did not change keeps its imported key (a reload finds the same keys most of the time).
    this.#signer = signerOf(currentKey(set, now), ed, this.#signer)
    const idKey = currentIdTokenKey(set, now)
    // With RS256 access tokens the access-token key signs RS256 ID tokens too.
    this.#idSigner = idKey !== undefined ? signerOf(idKey, ed, this.#idSigner) : this.#signer.alg === ID_TOKEN_ALG ? this.#signer : undefined
    this.#macKey = Buffer.from(set.refreshMacKey, 'base64url')
    // Derived, not stored: sealed with the MAC key it comes from, and it never rotates (rotateKeySet keeps the MAC key).
    this.#pepper = createHmac('sha256', this.#macKey).update('password-pepper-v1').digest()
    this.#jwksAt = 0
    this.#switchAt = Math.min(Infinity, ...set.keys.filter((k) => k.retiredAt === undefined && signsFrom(k) > now).map(signsFrom))
  }

  /** A key published ahead signs from its time on, in every replica, without waiting for a reload. */
  #current (): void {
    if (this.#opts.now() >= this.#switchAt) this.#use(this.#set)
  }

  /**
   * Loads the stored set and makes the change the schedule says is due, with
   * compare-and-set on the revision: when another replica wrote first, its set is
   * loaded and looked at again, so each step is taken once.
   */
  async runSchedule (): Promise<void> {
    const { schedule, store, mirror } = this.#opts
    if (schedule === undefined) return await this.reload()
    for (let attempt = 0; attempt < 5; attempt++) {
      const base = (await store.load()) ?? this.#set
      const next = scheduleKeySet(base, this.#opts.alg, this.#opts.now(), schedule)
      if (next === null) {
        if (base.revision !== this.#set.revision) this.#use(base)
        return
      }
      if (await store.replace(base.revision, next)) {
        await mirror?.copy(next)
        this.#use(next)
        const known = new Set(base.keys.map((k) => k.kid))
        for (const k of next.keys) if (!known.has(k.kid) && k.purpose === undefined) this.#opts.onScheduled?.(k.kid, signsFrom(k))
        return
      }
    }
    throw new Error('the key schedule kept conflicting with another writer')
  }

  /** Picks up a rotation written by another process. */
  async reload (): Promise<void> {
    const set = await this.#opts.store.load()
    if (set !== null && set.revision !== this.#set.revision) this.#use(set)
  }

  /** Retires the current keys (access-token and ID-token key) and starts signing with new ones. */
  async rotate (maxTokenLifetimeMs: number, alg: SigningAlg = this.#opts.alg): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const base = (await this.#opts.store.load()) ?? this.#set
      const next = rotateKeySet(base, alg, this.#opts.now(), maxTokenLifetimeMs)
      if (await this.#opts.store.replace(base.revision, next)) {
        await this.#opts.mirror?.copy(next)
        this.#use(next)
        return currentKey(next, this.#opts.now()).kid
      }
    }
    throw new Error('key rotation kept conflicting with another writer')
  }

  get kid (): string { this.#current(); return this.#signer.kid }
  get alg (): SigningAlg { this.#current(); return this.#signer.alg }
  /** What ID tokens can be signed with: RS256 first, then the access-token algorithm (never HS256). */
  get idTokenAlgs (): SigningAlg[] {
    this.#current()
    return [...new Set<SigningAlg>([ID_TOKEN_ALG, this.#signer.alg])].filter((a) => a !== 'HS256')
  }
  get refreshMacKey (): Buffer { return this.#macKey }
  /** The key password hashes are MACed with (auth/password-hash.ts), so a store dump cannot test a guess offline. */
  get passwordPepper (): Buffer { return this.#pepper }
  get revision (): number { return this.#set.revision }
  /** Which library signs EdDSA here. */
  get ed25519Backend (): Ed25519['name'] { return this.#opts.ed25519.name }

  /** Public keys; recomputed at most once a minute so retired keys drop out on time. */
  jwks (): { keys: PublicJwk[] } {
    const now = this.#opts.now()
    if (now - this.#jwksAt > 60_000) {
      this.#jwks = publicJwks({ ...this.#set, keys: prune(this.#set.keys, now) }, now)
      this.#jwksAt = now
    }
    return this.#jwks
  }

  /** Signs a compact JWS with the current access-token key. */
  signJws (header: Record<string, unknown>, payload: Record<string, unknown>): string {
    this.#current()
    return sign(this.#opts.ed25519, this.#signer, header, payload)
  }

  /** Signs an ID token with `alg` (one of `idTokenAlgs`): RS256 with the ID-token key, else the access-token key. */
  signIdToken (alg: SigningAlg, header: Record<string, unknown>, payload: Record<string, unknown>): string {
    this.#current()
    const s = alg === this.#signer.alg && alg !== 'HS256' ? this.#signer : alg === ID_TOKEN_ALG ? this.#idSigner : undefined
    if (s === undefined) throw new TypeError(`no key signs ID tokens with ${alg}`)
    return sign(this.#opts.ed25519, s, header, payload)
  }

  close (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
  }
}

function signerOf (k: StoredKey, ed: Ed25519, previous: Signer | undefined): Signer {
  if (previous !== undefined && previous.kid === k.kid && previous.alg === k.alg) return previous
  const headers = new WeakMap<object, string>()
  if (k.alg === 'HS256') return { kid: k.kid, alg: k.alg, key: Buffer.from(k.privateJwk.k ?? '', 'base64url'), headers }
  const key = privateKeyObject(k)
  return k.alg === 'EdDSA' ? { kid: k.kid, alg: k.alg, key, ed: ed.importPrivateKey(key), headers } : { kid: k.kid, alg: k.alg, key, headers }
}

/** `{...header, alg, kid}` encoded; kept per key for a frozen header (it cannot change, so neither can its bytes). */
function protectedHeader (s: Signer, header: Record<string, unknown>): string {
  if (!Object.isFrozen(header)) return b64json({ ...header, alg: s.alg, kid: s.kid })
  let encoded = s.headers.get(header)
  if (encoded === undefined) {
    encoded = b64json({ ...header, alg: s.alg, kid: s.kid })
    s.headers.set(header, encoded)
  }
  return encoded
}

function sign (ed: Ed25519, s: Signer, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${protectedHeader(s, header)}.${b64json(payload)}`
  let sig: Buffer
  switch (s.alg) {
    case 'EdDSA': sig = ed.sign(s.ed!, Buffer.from(input)); break
    case 'ES256': sig = cryptoSign('sha256', Buffer.from(input), { key: s.key as KeyObject, dsaEncoding: 'ieee-p1363' }); break
    case 'RS256': sig = cryptoSign('sha256', Buffer.from(input), s.key as KeyObject); break
    case 'HS256': sig = createHmac('sha256', s.key as Buffer).update(input).digest(); break
  }
  return `${input}.${sig.toString('base64url')}`
}

function b64json (v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url')
}
