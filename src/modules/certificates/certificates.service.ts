import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { toIso } from '../../core/clock.js';
import type { SecretBox } from '../../core/crypto/secret-box.js';
import type { DomainEventBus } from '../../core/events.js';
import type { ChangeFeed } from '../../db/change-feed/change-feed.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OperationContext } from '../permissions/operation-context.js';
import { canActOn } from '../permissions/permissions.policy.js';
import { enforce } from '../permissions/refusal.js';
import { policyTarget } from '../users/users.mapper.js';
import type { UserReader } from '../users/users.reader.js';
import { type CertificateAuthority, createCertificateAuthority } from './certificate-authority.js';
import { CertificateTrust, type CertificateVerdict, type PresentedCertificate } from './certificate-trust.js';
import { certificateError } from './certificates.errors.js';
import {
  findIssuedCertificate,
  listIssuedCertificates,
  listRevocations,
  markRevoked,
} from './certificates.repository.js';
import type { CertificateList, ListCertificatesInput, PublicCertificate } from './certificates.schemas.js';
import type { IssuedCertificateRow } from './certificates.table.js';
import { canonicalSerial } from './serial-number.js';

/** Warden's CA, the certificates it issued, and the trust the embedded broker places in them. */
export interface CertificatesService extends CertificateAuthority {
  /** Issued certificates, newest first, optionally of one user; an unknown username lists none. */
  list(input: ListCertificatesInput): Promise<CertificateList>;
  /**
   * Revokes a certificate (audited `certificate.revoke`): refused at the next CONNECT, and its live connections
   * on the embedded broker close. 404 `certificate.not_found`, 409 `certificate.already_revoked`, 403
   * `auth.target_forbidden` for a certificate of a user who outranks the actor.
   */
  revoke(ctx: OperationContext, serial: string): Promise<PublicCertificate>;
  /**
   * The CRL (PEM): certificates revoked or whose user was deleted, until they expire; signed now, valid for 7
   * days (docs/certificates.md#certificate-revocation-list).
   */
  revocationListPem(): Promise<string>;
  /** Whether a client certificate presented on the TLS listener authenticates a user. */
  verifyPresented(presented: PresentedCertificate): Promise<CertificateVerdict>;
  /** Follows revocations and user changes for {@link verifyPresented}'s memory; returns the stop function. */
  start(events: DomainEventBus): () => void;
}

function toPublic(row: IssuedCertificateRow, now: number): PublicCertificate {
  return {
    serialNumber: row.serial,
    username: row.username,
    keyType: row.key_type,
    fingerprintSha256: row.fingerprint_sha256,
    notBefore: toIso(row.not_before),
    notAfter: toIso(row.not_after),
    issuedAt: toIso(row.issued_at),
    revokedAt: toIso(row.revoked_at),
    status:
      row.revoked_at !== null
        ? 'revoked'
        : row.user_id === null
          ? 'user_deleted'
          : now >= row.not_after
            ? 'expired'
            : 'valid',
  };
}

export function createCertificatesService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  box: SecretBox;
  audit: AuditService;
  changes: Pick<ChangeFeed, 'record'>;
  users: Pick<UserReader, 'findRow' | 'findRowById' | 'mustFindRow'>;
}): CertificatesService {
  const { db, clock, audit, changes } = deps;
  const authority = createCertificateAuthority(deps);
  const trust = new CertificateTrust({ db, clock, users: deps.users });

  return {
    caCertificatePem: () => authority.caCertificatePem(),
    checkCsr: (csrPem, username) => authority.checkCsr(csrPem, username),
    issue: (csrPem, username, options) => authority.issue(csrPem, username, options),

    async list(input) {
      const page = input.page ?? 1;
      const pageSize = input.pageSize ?? 25;
      let userId: string | undefined;
      if (input.username !== undefined) {
        const user = await deps.users.findRow(input.username);
        if (!user) return { items: [], total: 0, page, pageSize };
        userId = user.id;
      }
      const { rows, total } = await listIssuedCertificates(db, userId === undefined ? {} : { userId }, {
        limit: pageSize,
        offset: (page - 1) * pageSize,
      });
      const now = clock.now();
      return { items: rows.map((row) => toPublic(row, now)), total, page, pageSize };
    },

    async revoke(ctx, serialText) {
      const serial = canonicalSerial(serialText);
      const target = `certificate:${serial}`;
      return audit.refusable(ctx, { action: 'certificate.revoke', target }, () =>
        db.transaction().execute(async (trx) => {
          const row = await findIssuedCertificate(trx, serial);
          if (!row) {
            throw certificateError('certificate.not_found', `No certificate has the serial ${serial}`);
          }
          // Cutting off a user's credential is acting on that user: not on one who outranks the actor.
          const owner = row.user_id === null ? undefined : await deps.users.findRowById(row.user_id, trx);
          if (owner) enforce(canActOn(ctx.actor, policyTarget(owner)));
          const now = clock.now();
          if (!(await markRevoked(trx, serial, now))) {
            throw certificateError('certificate.already_revoked', `${serial} was revoked before`);
          }
          await audit.record(trx, ctx, {
            action: 'certificate.revoke',
            target,
            details: { username: row.username, notAfter: toIso(row.not_after) },
          });
          await changes.record(trx, 'certificate.revoked', { serial, username: row.username });
          return toPublic({ ...row, revoked_at: now }, now);
        }),
      );
    },

    async revocationListPem() {
      const now = clock.now();
      const rows = await listRevocations(db, now);
      return authority.revocationListPem(
        rows.map((row) =>
          row.revoked_at !== null
            ? { serial: row.serial, revokedAt: row.revoked_at, reason: 'revoked' }
            : // Warden does not know when the user was deleted: the certificate counts as revoked from its issue.
              { serial: row.serial, revokedAt: row.issued_at, reason: 'user_deleted' },
        ),
        now,
      );
    },

    verifyPresented: (presented) => trust.verify(presented),

    start: (events) => trust.start(events),
  };
}
