import { defineErrors } from '../../core/errors/app-error.js';

export const mfaError = defineErrors({
  'mfa.already_enabled': {
    status: 409,
    title: 'MFA already enabled',
    description:
      'A TOTP authenticator is already enrolled; disable it (or have an admin reset it) to enrol another.',
  },
  'mfa.not_started': {
    status: 400,
    title: 'No enrolment in progress',
    description: 'Confirming needs an enrolment started with POST /api/v1/me/mfa/totp.',
  },
  'mfa.invalid_code': {
    status: 400,
    title: 'Verification failed',
    description:
      'The TOTP code (or, to disable MFA, the password) is wrong, outside its time window or was already used.',
  },
  'mfa.required': {
    status: 403,
    title: 'MFA is required',
    description: "MFA is required for the user's role (`mfaRequiredRoles`), so it cannot be disabled.",
  },
});
