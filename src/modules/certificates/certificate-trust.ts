import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { DomainEventBus } from '../../core/events.js';
import type { Database } from '../../db/schema.js';
import type { UserReader } from '../users/users.reader.js';
import { findIssuedCertificate } from './certificates.repository.js';
import { canonicalFingerprint, canonicalSerial } from './serial-number.js';

/** A client certificate as the TLS layer saw it (docs/certificates.md#mqtt-over-tls-with-a-client-certificate). */
export interface PresentedCertificate {
  /**
   * Whether the TLS layer verified it: it chains to Warden's CA (the listener trusts no other) and is within its
   * validity by the system clock.
   */
  readonly chainVerified: boolean;
  /** The subject's CN; null when it has none or several. */
  readonly commonName: string | null;
  /** Hex, any case. */
  readonly serialNumber: string;
  /** SHA-256 of the DER certificate, hex with or without colons. */
  readonly fingerprintSha256: string;
}

/** Why a presented certificate does not authenticate anyone (the audit log's reason; never told the client). */
export type CertificateRefusal =
  | 'untrusted_certificate'
  | 'unknown_certificate'
  | 'revoked_certificate'
  | 'expired_certificate'
  | 'unknown_user'
  | 'inactive';

export type CertificateVerdict =
  | {
      readonly ok: true;
      readonly userId: string;
      /** The user's stored spelling (= the certificate's CN). */
      readonly username: string;
      readonly serial: string;
      /** The certificate's end (epoch ms). */
      readonly notAfter: number;
      /** Answered from memory (trusted recently), without reading the database. */
      readonly remembered: boolean;
    }
  | { readonly ok: false; readonly reason: CertificateRefusal; readonly username: string | null };

type Trusted = Omit<Extract<CertificateVerdict, { ok: true }>, 'remembered'> & {
  readonly fingerprint: string;
  readonly expiresAt: number;
};

function verdictOf(entry: Trusted, remembered: boolean): CertificateVerdict {
  const { userId, username, serial, notAfter } = entry;
  return { ok: true, userId, username, serial, notAfter, remembered };
}

/**
 * Decides whether a client certificate authenticates a user: it chains to Warden's CA, Warden recorded its serial
 * (with the same fingerprint) for a user that still exists with that id — a user deleted and created again under
 * the same name is another id — it is neither revoked nor outside its validity, and the user is active.
 * Accepted certificates are remembered (like verified passwords) so that a reconnecting fleet costs no database
 * read; the memory follows the change feed: a revocation, a deactivation or deletion of the user, or a feed
 * reset forgets at once, and a check that began before such a change stores nothing.
 */
export class CertificateTrust {
  readonly #entries = new Map<string, Trusted>();
  /** Bumped by every invalidation: a check that read the database before it must not store its result. */
  #generation = 0;

  constructor(
    private readonly deps: {
      readonly db: Kysely<Database>;
      readonly clock: Clock;
      readonly users: Pick<UserReader, 'findRowById'>;
      readonly ttlMs?: number;
      readonly maxEntries?: number;
    },
  ) {}

  async verify(presented: PresentedCertificate): Promise<CertificateVerdict> {
    const claimed = presented.commonName;
    if (!presented.chainVerified) return { ok: false, reason: 'untrusted_certificate', username: claimed };
    const serial = canonicalSerial(presented.serialNumber);
    const fingerprint = canonicalFingerprint(presented.fingerprintSha256);
    const now = this.deps.clock.now();
    const cached = this.#entries.get(serial);
    if (cached && cached.fingerprint === fingerprint && now < cached.expiresAt && now < cached.notAfter) {
      return verdictOf(cached, true);
    }
    if (cached) this.#entries.delete(serial);
    const generation = this.#generation;
    const row = await findIssuedCertificate(this.deps.db, serial);
    if (!row || row.fingerprint_sha256 !== fingerprint) {
      return { ok: false, reason: 'unknown_certificate', username: claimed };
    }
    if (row.revoked_at !== null) return { ok: false, reason: 'revoked_certificate', username: row.username };
    if (now < row.not_before || now >= row.not_after) {
      return { ok: false, reason: 'expired_certificate', username: row.username };
    }
    const user = row.user_id === null ? undefined : await this.deps.users.findRowById(row.user_id);
    // The CN is the name Warden wrote into it; anything else was not issued by this row.
    if (!user || claimed === null || claimed.toLowerCase() !== user.username.toLowerCase()) {
      return { ok: false, reason: 'unknown_user', username: row.username };
    }
    if (user.active !== 1) return { ok: false, reason: 'inactive', username: user.username };
    const trusted: Trusted = {
      ok: true,
      userId: user.id,
      username: user.username,
      serial,
      notAfter: row.not_after,
      fingerprint,
      expiresAt: now + (this.deps.ttlMs ?? 60_000),
    };
    if (generation === this.#generation) this.#remember(trusted);
    return verdictOf(trusted, false);
  }

  /** Follows the changes that end a certificate's trust; returns the stop function. */
  start(events: DomainEventBus): () => void {
    const offRevoked = events.on('certificate.revoked', ({ serial }) => {
      this.#generation += 1;
      this.#entries.delete(canonicalSerial(serial));
    });
    const offUsers = events.on('user.changed', ({ userId, change }) => {
      if (change !== 'deactivated' && change !== 'deleted') return;
      this.#generation += 1;
      for (const [serial, entry] of this.#entries) if (entry.userId === userId) this.#entries.delete(serial);
    });
    const offReset = events.on('feed.reset', () => {
      this.#generation += 1;
      this.#entries.clear();
    });
    return () => {
      offRevoked();
      offUsers();
      offReset();
    };
  }

  /** Certificates remembered as trusted (diagnostics and tests). */
  get size(): number {
    return this.#entries.size;
  }

  #remember(entry: Trusted): void {
    this.#entries.delete(entry.serial);
    this.#entries.set(entry.serial, entry);
    // A Map iterates in insertion order: the first entry is the oldest.
    if (this.#entries.size > (this.deps.maxEntries ?? 100_000)) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}
