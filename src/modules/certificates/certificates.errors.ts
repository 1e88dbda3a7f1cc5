import { defineErrors } from '../../core/errors/app-error.js';

/** Error codes of Warden's certificate authority and the certificates it issued (docs/certificates.md). */
export const certificateError = defineErrors({
  'certificate.csr_invalid': {
    status: 400,
    title: 'Certificate request not accepted',
    description:
      'The certificate signing request is not one PEM `CERTIFICATE REQUEST`, its signature does not verify, its key is not EC P-256/P-384 or RSA ≥ 2048 bits, or its subject does not hold exactly one CN equal to the username; `detail` says which.',
  },
  'certificate.csr_too_large': {
    status: 400,
    title: 'Certificate request too large',
    description: 'The certificate signing request is larger than 8 KiB.',
  },
  'certificate.validity_invalid': {
    status: 400,
    title: 'Validity out of range',
    description: 'A certificate is issued for a whole number of days from 1 to 3650.',
  },
  'certificate.not_found': {
    status: 404,
    title: 'Certificate not found',
    description: 'Warden issued no certificate with this serial number (or its user was deleted).',
  },
  'certificate.already_revoked': {
    status: 409,
    title: 'Certificate already revoked',
    description: 'The certificate with this serial number was revoked before.',
  },
});
