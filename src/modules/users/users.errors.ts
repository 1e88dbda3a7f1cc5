import { defineErrors } from '../../core/errors/app-error.js';

export const userError = defineErrors({
  'user.not_found': { status: 404, title: 'User not found', description: 'No user has this username.' },
  'user.exists': {
    status: 409,
    title: 'User already exists',
    description: 'The username is taken (usernames are unique case-insensitively).',
  },
  'user.username_immutable': {
    status: 400,
    title: 'Username cannot change',
    description: 'A PATCH carried a username different from the one in the URL; usernames are immutable.',
  },
  'user.protected': {
    status: 403,
    title: 'Protected user',
    description:
      'The root user cannot be deleted, and its role, scopes, kind and authentication method (always `local`) cannot change.',
  },
  'user.last_admin': {
    status: 409,
    title: 'Last admin who can manage users',
    description:
      'The change would leave no active admin who holds `user_management` and can sign in (demotion, a dropped scope, a kind without console login, deactivation or deletion of the last one).',
  },
  'user.scopes_incompatible': {
    status: 400,
    title: 'Scopes incompatible with role',
    description:
      'The scopes are not allowed for the (new) role; send a compatible `scopes` list with the role change.',
  },
  'user.not_machine': {
    status: 409,
    title: 'Not a device or service',
    description:
      "Secret rotation is for devices and services, whose generated secret is their lasting MQTT credential; a person's password is reset instead (`PUT /api/v1/users/{username}/password`).",
  },
  'user.sso_password': {
    status: 400,
    title: 'SSO users have no password',
    description:
      'An SSO user signs in at its provider and has no usable password: none can be given when it is created, set for it, or changed by it. Switch the user to `local` to give it one (docs/sso.md#users-and-the-authentication-method).',
  },
  'user.sso_provider_unknown': {
    status: 400,
    title: 'Unknown SSO provider',
    description:
      '`authMethod` `sso` needs `ssoProvider` naming a configured provider (Settings → Authentication, `warden sso providers list`).',
  },
  'user.email_required': {
    status: 400,
    title: 'Email required',
    description:
      'SSO users need an email address: the first sign-in finds them by the verified email their provider asserts.',
  },
  'user.auth_method_invalid': {
    status: 400,
    title: 'Authentication method not possible',
    description:
      'Only people (kind `person`) sign in with SSO, and `ssoProvider` goes only with `authMethod` `sso`.',
  },
  'password.current_mismatch': {
    status: 400,
    title: 'Current password is wrong',
    description: "Changing one's own password needs the current password.",
  },
});
