import type { Insertable, Selectable } from 'kysely';

/**
 * Row of `certificate_authorities` (migration 013): Warden's CA. One row, in the slot `default`; the private key
 * is PKCS#8 sealed with the secret box under the context `certificate-authority:<id>`, never stored in clear.
 */
export interface CertificateAuthoritiesTable {
  slot: string;
  /** Random, names the CA (`CN=Warden CA <id>`). */
  id: string;
  certificate_pem: string;
  sealed_key: string;
  created_at: number;
}

/**
 * Row of `issued_certificates` (migration 013): every certificate the CA issued, by serial number (lower-case hex
 * of the DER integer, no leading zero bytes). Times are epoch ms.
 */
export interface IssuedCertificatesTable {
  serial: string;
  ca_id: string;
  /** Null once the user is deleted (the database sets it): such a certificate is refused and in the CRL. */
  user_id: string | null;
  /** The user's stored spelling at issue (usernames are immutable): the certificate's CN. */
  username: string;
  /** SHA-256 of the DER certificate, lower-case hex. */
  fingerprint_sha256: string;
  /** `EC P-256`, `EC P-384` or `RSA <bits>`. */
  key_type: string;
  not_before: number;
  not_after: number;
  issued_at: number;
  revoked_at: number | null;
}

export type CertificateAuthorityRow = Selectable<CertificateAuthoritiesTable>;
export type IssuedCertificateRow = Selectable<IssuedCertificatesTable>;
export type NewIssuedCertificateRow = Insertable<IssuedCertificatesTable>;
