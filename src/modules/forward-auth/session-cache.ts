import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { DomainEventBus } from '../../core/events.js';

/** A complete session verified recently: whose it is, and until when it may be trusted without a read. */
interface Entry {
  readonly userId: string;
  readonly username: string;
  readonly until: number;
}

/**
 * Complete console sessions verified recently, so that a proxy asking on every request does not read the
 * session, its user and the settings every time. It follows the change feed like the other caches: an ended
 * session (`session.ended`: logout, revocation), any change to its user (`user.changed`: deactivation, deletion,
 * password, MFA, role …), a settings change and a feed reset drop entries at once — so those apply to the next
 * request. Otherwise an entry is trusted for at most `ttlMs` and never past the session's absolute expiry; its
 * idle expiry is at least a minute after the read that stored it (timeouts are whole minutes, and the read
 * renews the session), so it cannot pass unseen either. A miss reads the session again, which also renews it.
 *
 * Keys are SHA-256 of the cookie value: the token itself is not kept.
 */
export class SessionCache {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  // a Map iterates in insertion order, so the first entry is always the oldest one
  readonly #entries = new Map<string, Entry>();
  readonly #byUser = new Map<string, Set<string>>();
  /** Bumped by every drop: a read that started before it must not store what it read. */
  #epoch = 0;
  /** Only a cache that follows the change feed keeps anything. */
  #following = false;

  constructor(options: { clock: Clock; ttlMs: number; maxEntries: number }) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
  }

  keyFor(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  get(key: string): { readonly username: string } | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#clock.now() < entry.until) return entry;
    this.#forget(key, entry);
    return undefined;
  }

  /** Read before the session is read; {@link set} stores nothing when anything was dropped meanwhile. */
  epoch(): number {
    return this.#epoch;
  }

  set(key: string, session: { userId: string; username: string; expiresAt: number }, epoch: number): void {
    if (!this.#following || epoch !== this.#epoch) return;
    const previous = this.#entries.get(key);
    if (previous) this.#forget(key, previous);
    const until = Math.min(this.#clock.now() + this.#ttlMs, session.expiresAt);
    this.#entries.set(key, { userId: session.userId, username: session.username, until });
    let keys = this.#byUser.get(session.userId);
    if (!keys) {
      keys = new Set();
      this.#byUser.set(session.userId, keys);
    }
    keys.add(key);
    if (this.#entries.size > this.#maxEntries) {
      const [oldestKey, oldest] = this.#entries.entries().next().value as [string, Entry];
      this.#forget(oldestKey, oldest);
    }
  }

  dropUser(userId: string): void {
    this.#epoch += 1;
    for (const key of this.#byUser.get(userId) ?? []) this.#entries.delete(key);
    this.#byUser.delete(userId);
  }

  clear(): void {
    this.#epoch += 1;
    this.#entries.clear();
    this.#byUser.clear();
  }

  /** Follows the changes that end or change sessions; returns the stop function. */
  start(events: DomainEventBus): () => void {
    this.#following = true;
    const offs = [
      events.on('session.ended', ({ userId }) => this.dropUser(userId)),
      events.on('user.changed', ({ userId }) => this.dropUser(userId)),
      events.on('settings.changed', () => this.clear()),
      events.on('feed.reset', () => this.clear()),
    ];
    return () => {
      for (const off of offs) off();
      // Not following any more: nothing cached may be trusted.
      this.#following = false;
      this.clear();
    };
  }

  #forget(key: string, entry: Entry): void {
    this.#entries.delete(key);
    const keys = this.#byUser.get(entry.userId);
    keys?.delete(key);
    if (keys?.size === 0) this.#byUser.delete(entry.userId);
  }
}
