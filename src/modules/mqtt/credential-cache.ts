import { createHmac, hkdfSync } from 'node:crypto';
import type { Clock } from '../../core/clock.js';

/** A credential that passed verification recently. */
export interface VerifiedCredential {
  readonly userId: string;
  readonly username: string;
}

/** A cached credential, and the end of its validity (a previous secret's grace period), if it has one. */
export interface CachedCredential extends VerifiedCredential {
  readonly validUntil: number | null;
}

interface Entry extends CachedCredential {
  /** Trusted until then once no live connection holds it. */
  expiresAt: number;
  /** Live connections authenticated with this credential. */
  pins: number;
}

export interface CredentialCacheOptions {
  /** WARDEN_SECRET_KEY (or the generated key); a sub-key for this cache is derived from it. */
  readonly secretKey: string;
  readonly clock: Clock;
  /** How long a verified credential is trusted after its verification or its last connection ended. */
  readonly ttlMs: number;
  /** Most entries kept; the oldest is dropped beyond it. */
  readonly maxEntries: number;
  /**
   * The HKDF label of this cache's sub-key (default: the MQTT cache's). Forward-auth's Basic credentials use
   * their own, so that a key of one cache never stands for a credential verified by the other's rules.
   */
  readonly purpose?: string;
}

/**
 * Remembers which username/password pairs were accepted, so that a reconnect storm of thousands of devices
 * does not put every CONNECT through the hasher. An entry is trusted for `ttlMs` after its verification, for as
 * long as a connection authenticated with it is open, and for `ttlMs` after the last such connection closed —
 * which covers the storm after a network outage, when every device comes back at once.
 *
 * Entries are keyed by HMAC-SHA256(derived key, lower(username) NUL password): neither the password nor an
 * offline-guessable hash of it is ever held. `dropUser` forgets a user at once (password change, deactivation,
 * deletion).
 */
export class CredentialCache {
  readonly #key: Buffer;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  // a Map iterates in insertion order, so the first entry is always the oldest one
  readonly #entries = new Map<string, Entry>();
  readonly #byUser = new Map<string, Set<string>>();
  /** Bumped by `dropUser`: a verification that started before the drop must not store its result. */
  readonly #generations = new Map<string, number>();
  /** Bumped by `clear`: no verification that started before it may store its result. */
  #clears = 0;

  constructor(options: CredentialCacheOptions) {
    // a purpose-bound sub-key: the same secret also encrypts data at rest
    const label = options.purpose ?? 'warden/mqtt-credential-cache';
    this.#key = Buffer.from(hkdfSync('sha256', options.secretKey, '', label, 32));
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
  }

  keyFor(username: string, password: string): string {
    return createHmac('sha256', this.#key)
      .update(username.toLowerCase())
      .update('\0')
      .update(password)
      .digest('base64url');
  }

  get(key: string): CachedCredential | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.#clock.now();
    // A credential with an end is never trusted past it, however many connections hold it.
    const valid = entry.validUntil === null || now < entry.validUntil;
    if (valid && (entry.pins > 0 || now < entry.expiresAt)) return entry;
    this.#forget(key, entry);
    return undefined;
  }

  /** The end of a cached credential's validity; null when it has none or is not cached. */
  validUntil(key: string): number | null {
    return this.#entries.get(key)?.validUntil ?? null;
  }

  /** The user's current generation (and the cache's), read before a verification starts. */
  generation(username: string): string {
    return `${this.#clears}:${this.#generations.get(username.toLowerCase()) ?? 0}`;
  }

  /**
   * Stores a verified credential unless the user was dropped since `generation` was read; `validUntil` (epoch
   * ms) bounds how long it may be trusted at all.
   */
  set(
    key: string,
    credential: VerifiedCredential,
    generation: string,
    validUntil: number | null = null,
  ): void {
    const user = credential.username.toLowerCase();
    if (this.generation(user) !== generation) return;
    const previous = this.#entries.get(key);
    if (previous) this.#forget(key, previous);
    this.#entries.set(key, {
      userId: credential.userId,
      username: credential.username,
      validUntil,
      expiresAt: this.#clock.now() + this.#ttlMs,
      pins: 0,
    });
    let keys = this.#byUser.get(user);
    if (!keys) {
      keys = new Set();
      this.#byUser.set(user, keys);
    }
    keys.add(key);
    if (this.#entries.size > this.#maxEntries) {
      const [oldestKey, oldest] = this.#entries.entries().next().value as [string, Entry];
      this.#forget(oldestKey, oldest);
    }
  }

  /**
   * A connection authenticated with `key` is open: the entry stays trusted until `ttlMs` after the returned
   * release function has been called (once per connection). A no-op for an entry already gone.
   */
  pin(key: string): () => void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return () => {};
    entry.pins += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.pins -= 1;
      if (entry.pins === 0) entry.expiresAt = this.#clock.now() + this.#ttlMs;
    };
  }

  dropUser(username: string): void {
    const user = username.toLowerCase();
    this.#generations.set(user, (this.#generations.get(user) ?? 0) + 1);
    for (const key of this.#byUser.get(user) ?? []) this.#entries.delete(key);
    this.#byUser.delete(user);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Forgets every credential (after changes may have been missed); verifications in flight store nothing. */
  clear(): void {
    this.#clears += 1;
    this.#entries.clear();
    this.#byUser.clear();
  }

  #forget(key: string, entry: Entry): void {
    this.#entries.delete(key);
    const user = entry.username.toLowerCase();
    const keys = this.#byUser.get(user);
    keys?.delete(key);
    if (keys?.size === 0) this.#byUser.delete(user);
  }
}
