import { createHash, randomBytes, webcrypto } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { toIso } from '../../core/clock.js';
import type { SecretBox } from '../../core/crypto/secret-box.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import { type OperationContext, SYSTEM_CONTEXT } from '../permissions/operation-context.js';
import type { UserReader } from '../users/users.reader.js';
import { certificateError } from './certificates.errors.js';
import {
  findAuthority,
  insertAuthorityIfAbsent,
  insertIssuedCertificate,
} from './certificates.repository.js';
import type { CertificateAuthorityRow } from './certificates.table.js';
import { inspectCsr } from './csr-check.js';
import { x509 } from './x509.js';

/** A certificate the CA issued, as delivered to the device (the private key never leaves it). */
export interface IssuedCertificate {
  readonly certificatePem: string;
  /** The issuing chain: Warden's CA certificate. */
  readonly chainPem: string;
  /** Lower-case hex of the serial number (no leading zero bytes). */
  readonly serialNumber: string;
  /** ISO 8601. */
  readonly notAfter: string;
}

export interface IssueOptions {
  /** Whole days from 1 to 3650; never beyond the CA's own end. */
  readonly validityDays: number;
  /** The caller's transaction: the certificate is recorded (and audited) in it, or not at all. */
  readonly trx?: Kysely<Database>;
  /** Whom the `certificate.issue` audit event names; Warden itself (`system`) when omitted. */
  readonly context?: OperationContext;
}

/**
 * Warden's certificate authority (docs/certificates.md): signs device certificates from their CSRs, for MQTT
 * over TLS with a client certificate (the embedded broker's TLS listener, or Mosquitto with
 * `use_identity_as_username`).
 */
export interface CertificateAuthority {
  /** The CA certificate (PEM); the CA is created at first use. */
  caCertificatePem(): Promise<string>;
  /**
   * Checks a CSR for `username` without issuing anything; throws 400 `certificate.csr_invalid` (the detail says
   * why) or `certificate.csr_too_large` (over 8 KiB).
   */
  checkCsr(csrPem: string, username: string): Promise<void>;
  /**
   * Issues a client certificate for the existing user `username` (CN = its stored spelling, which the CSR's CN
   * must equal) and records it, audited `certificate.issue`, in `options.trx` when given. Throws as
   * {@link checkCsr}, 400 `certificate.validity_invalid`, or 404 `user.not_found`.
   */
  issue(csrPem: string, username: string, options: IssueOptions): Promise<IssuedCertificate>;
}

/** One certificate the CRL lists. */
export interface RevocationEntry {
  readonly serial: string;
  /** Epoch ms. */
  readonly revokedAt: number;
  /** `user_deleted`: the certificate's user no longer exists (listed with reason cessationOfOperation). */
  readonly reason: 'revoked' | 'user_deleted';
}

/** Signs the CA's certificate revocation list (docs/certificates.md#certificate-revocation-list). */
export interface RevocationListSigner {
  /** A CRL (PEM) listing `entries`, issued at `now`, valid for {@link CRL_VALIDITY_DAYS} days. */
  revocationListPem(entries: readonly RevocationEntry[], now: number): Promise<string>;
}

/** How long a CRL is valid: a broker that has not fetched a newer one by then refuses every certificate. */
export const CRL_VALIDITY_DAYS = 7;

/** The slot of the one CA (the table allows more for a later rotation). */
const SLOT = 'default';
const CA_VALIDITY_DAYS = 3650;
export const MAX_VALIDITY_DAYS = 3650;
const DAY_MS = 86_400_000;
/** Certificates start a little in the past, so a device or broker whose clock lags accepts them at once. */
export const BACKDATE_MS = 5 * 60_000;
const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** The CA, opened: its certificate and its private key (a non-extractable WebCrypto key). */
interface OpenedAuthority {
  readonly id: string;
  readonly certificate: x509.X509Certificate;
  readonly pem: string;
  readonly privateKey: webcrypto.CryptoKey;
  readonly notAfter: number;
}

/** The secret-box context of the CA's key: a sealed key copied to another row does not open there. */
function keyContext(id: string): string {
  return `certificate-authority:${id}`;
}

/** A random serial of 128 bits as the lower-case hex of a positive DER integer without leading zero bytes. */
function randomSerial(): string {
  const hex = randomBytes(16)
    .toString('hex')
    .replace(/^(00)+/, '');
  return hex === '' ? '01' : hex;
}

/** Whole seconds (X.509 times carry no milliseconds), so the recorded times equal the certificate's. */
function seconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

function withNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

export function createCertificateAuthority(deps: {
  db: Kysely<Database>;
  clock: Clock;
  box: SecretBox;
  audit: AuditService;
  users: Pick<UserReader, 'mustFindRow'>;
}): CertificateAuthority & RevocationListSigner {
  const { db, clock, box, audit } = deps;
  /** The committed CA once known; a CA read or made by a caller's transaction is kept only when seen committed. */
  let opened: OpenedAuthority | null = null;
  let opening: Promise<OpenedAuthority> | null = null;
  /** CAs this process created inside a caller's transaction and has not yet seen committed. */
  const madeInTransactions = new Set<string>();

  async function open(row: CertificateAuthorityRow): Promise<OpenedAuthority> {
    const pkcs8 = box.open(row.sealed_key, keyContext(row.id));
    if (!pkcs8) {
      throw new Error(
        'the CA private key cannot be opened: WARDEN_SECRET_KEY is not the key it was sealed with (docs/certificates.md)',
      );
    }
    const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, EC_KEY, false, ['sign']);
    const certificate = new x509.X509Certificate(row.certificate_pem);
    return {
      id: row.id,
      certificate,
      pem: withNewline(row.certificate_pem),
      privateKey,
      notAfter: certificate.notAfter.getTime(),
    };
  }

  /** A new self-signed CA, inserted unless another instance (or call) got there first; true when this one won. */
  async function create(executor: Kysely<Database>): Promise<boolean> {
    const id = randomBytes(8).toString('hex');
    const keys = (await webcrypto.subtle.generateKey(EC_KEY, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const now = seconds(clock.now());
    const notAfter = now + CA_VALIDITY_DAYS * DAY_MS;
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: [{ CN: [`Warden CA ${id}`] }],
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(notAfter),
      keys,
      signingAlgorithm: SIGNING,
      extensions: [
        // It signs device certificates only: no intermediate CA below it.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const row: CertificateAuthorityRow = {
      slot: SLOT,
      id,
      certificate_pem: certificate.toString('pem'),
      sealed_key: box.seal(pkcs8, keyContext(id)),
      created_at: clock.now(),
    };
    pkcs8.fill(0);
    const record = async (trx: Kysely<Database>): Promise<boolean> => {
      if (!(await insertAuthorityIfAbsent(trx, row))) return false;
      await audit.record(trx, SYSTEM_CONTEXT, {
        action: 'certificate.ca_create',
        target: `certificate_authority:${id}`,
        details: { subject: certificate.subject, keyType: 'EC P-256', notAfter: toIso(notAfter) },
      });
      return true;
    };
    return executor.isTransaction ? record(executor) : db.transaction().execute(record);
  }

  /** Reads the committed CA, creating it first when there is none (insert-if-absent, then read the winner). */
  async function loadCommitted(): Promise<OpenedAuthority> {
    let row = await findAuthority(db, SLOT);
    if (!row) {
      await create(db);
      row = await findAuthority(db, SLOT);
      if (!row) throw new Error('the certificate authority vanished right after it was stored');
    }
    madeInTransactions.delete(row.id);
    return open(row);
  }

  function committed(): Promise<OpenedAuthority> {
    if (opened) return Promise.resolve(opened);
    opening ??= loadCommitted().then(
      (authority) => {
        opened = authority;
        return authority;
      },
      (error: unknown) => {
        opening = null;
        throw error;
      },
    );
    return opening;
  }

  /**
   * The CA as seen by a caller's transaction. It must not wait for another connection (SQLite has one, which
   * the transaction holds): a CA already committed is read through the transaction; when there is none, it is
   * created inside the transaction and only remembered once it is seen committed later.
   */
  async function within(trx: Kysely<Database>): Promise<OpenedAuthority> {
    if (opened) return opened;
    const existing = await findAuthority(trx, SLOT);
    if (existing) {
      const authority = await open(existing);
      // Unless this process made it in a transaction that may still roll back, it was committed by someone.
      if (!madeInTransactions.has(existing.id)) opened ??= authority;
      return authority;
    }
    await create(trx);
    const made = await findAuthority(trx, SLOT);
    if (!made) throw new Error('the certificate authority vanished right after it was stored');
    madeInTransactions.add(made.id);
    return open(made);
  }

  async function issueWith(
    trx: Kysely<Database>,
    csrPem: string,
    username: string,
    options: IssueOptions,
  ): Promise<IssuedCertificate> {
    const user = await deps.users.mustFindRow(username, trx);
    const csr = await inspectCsr(csrPem, user.username);
    const authority = await within(trx);
    const now = seconds(clock.now());
    const notBefore = now - BACKDATE_MS;
    const notAfter = Math.min(now + options.validityDays * DAY_MS, authority.notAfter);
    const usages =
      csr.keyKind === 'ec'
        ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement
        : x509.KeyUsageFlags.digitalSignature;
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [user.username] }],
      issuer: authority.certificate.subjectName,
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      publicKey: csr.request.publicKey,
      signingKey: authority.privateKey,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(usages, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(authority.certificate.publicKey),
        await x509.SubjectKeyIdentifierExtension.create(csr.request.publicKey),
      ],
    });
    const serialNumber = certificate.serialNumber.toLowerCase();
    const fingerprint = createHash('sha256').update(Buffer.from(certificate.rawData)).digest('hex');
    await insertIssuedCertificate(trx, {
      serial: serialNumber,
      ca_id: authority.id,
      user_id: user.id,
      username: user.username,
      fingerprint_sha256: fingerprint,
      key_type: csr.keyType,
      not_before: notBefore,
      not_after: notAfter,
      issued_at: clock.now(),
      revoked_at: null,
    });
    await audit.record(trx, options.context ?? SYSTEM_CONTEXT, {
      action: 'certificate.issue',
      target: `certificate:${serialNumber}`,
      details: {
        username: user.username,
        keyType: csr.keyType,
        notBefore: toIso(notBefore),
        notAfter: toIso(notAfter),
        fingerprintSha256: fingerprint,
      },
    });
    return {
      certificatePem: withNewline(certificate.toString('pem')),
      chainPem: authority.pem,
      serialNumber,
      notAfter: toIso(notAfter),
    };
  }

  return {
    async caCertificatePem() {
      return (await committed()).pem;
    },

    async revocationListPem(entries, now) {
      const authority = await committed();
      const thisUpdate = seconds(now);
      const crl = await x509.X509CrlGenerator.create({
        issuer: authority.certificate.subjectName,
        thisUpdate: new Date(thisUpdate),
        nextUpdate: new Date(thisUpdate + CRL_VALIDITY_DAYS * DAY_MS),
        signingKey: authority.privateKey,
        signingAlgorithm: SIGNING,
        extensions: [await x509.AuthorityKeyIdentifierExtension.create(authority.certificate.publicKey)],
        entries: entries.map((entry) => ({
          serialNumber: entry.serial,
          revocationDate: new Date(seconds(entry.revokedAt)),
          ...(entry.reason === 'user_deleted' ? { reason: x509.X509CrlReason.cessationOfOperation } : {}),
        })),
      });
      // The library labels the block `CRL`; OpenSSL (and so Mosquitto's `crlfile`) reads only `X509 CRL`.
      return withNewline(x509.PemConverter.encode(crl.rawData, 'X509 CRL'));
    },

    async checkCsr(csrPem, username) {
      await inspectCsr(csrPem, username);
    },

    async issue(csrPem, username, options) {
      const days = options.validityDays;
      if (!Number.isInteger(days) || days < 1 || days > MAX_VALIDITY_DAYS) {
        throw certificateError(
          'certificate.validity_invalid',
          `validityDays must be a whole number from 1 to ${MAX_VALIDITY_DAYS}, not ${days}`,
        );
      }
      if (options.trx) return issueWith(options.trx, csrPem, username, options);
      return db.transaction().execute((trx) => issueWith(trx, csrPem, username, options));
    },
  };
}
