import { type Static, Type } from 'typebox';
import { PageSizeSchema } from '../../http/common-schemas.js';

/** A serial number as hex, with or without colons, in either case (as `openssl x509 -serial` prints it, too). */
export const SerialSchema = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^(serial=)?[0-9A-Fa-f:]+$',
  description: 'hex serial number (colons and case do not matter)',
});

export const CertificateSchema = Type.Object({
  serialNumber: Type.String({ description: 'lower-case hex, no leading zero bytes' }),
  username: Type.String({ description: "the certificate's CN" }),
  keyType: Type.String({ description: '`EC P-256`, `EC P-384` or `RSA <bits>`' }),
  fingerprintSha256: Type.String({ description: 'SHA-256 of the DER certificate, lower-case hex' }),
  notBefore: Type.String({ format: 'date-time' }),
  notAfter: Type.String({ format: 'date-time' }),
  issuedAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  status: Type.Union(
    [Type.Literal('valid'), Type.Literal('expired'), Type.Literal('revoked'), Type.Literal('user_deleted')],
    { description: 'at the time of the answer; `user_deleted`: its user was deleted (it is refused)' },
  ),
});
export type PublicCertificate = Static<typeof CertificateSchema>;

export const CertificateListSchema = Type.Object({
  items: Type.Array(CertificateSchema),
  total: Type.Integer(),
  page: Type.Integer(),
  pageSize: Type.Integer(),
});
export type CertificateList = Static<typeof CertificateListSchema>;

export const ListCertificatesQuery = Type.Object(
  {
    username: Type.Optional(
      Type.String({ maxLength: 100, description: 'only the certificates of this username' }),
    ),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
    pageSize: Type.Optional(PageSizeSchema),
  },
  { additionalProperties: false },
);
export type ListCertificatesInput = Static<typeof ListCertificatesQuery>;

export const CertificateParams = Type.Object({ serial: SerialSchema });
