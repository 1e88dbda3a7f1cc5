import { defineErrors } from '../../core/errors/app-error.js';

export const authError = defineErrors({
  'auth.invalid_credentials': {
    status: 401,
    title: 'Invalid credentials',
    description:
      'Unknown user, wrong password, inactive user or a user who may not log in: always the same answer.',
  },
  'auth.throttled': {
    status: 429,
    title: 'Too many attempts',
    description: 'Too many sign-in attempts for this account or address; wait for Retry-After seconds.',
  },
  'auth.invalid_code': {
    status: 401,
    title: 'Invalid code',
    description: 'At the MFA login step: the TOTP or recovery code is wrong, expired or was already used.',
  },
  'auth.no_login_in_progress': {
    status: 400,
    title: 'No login step pending',
    description: 'This step of the login flow does not apply to the current session.',
  },
});
