import { defineErrors } from '../../core/errors/app-error.js';

/** Error codes of SSO provider management (docs/sso.md). */
export const ssoError = defineErrors({
  'sso.provider_not_found': {
    status: 404,
    title: 'SSO provider not found',
    description: 'No SSO provider has this name.',
  },
  'sso.provider_exists': {
    status: 409,
    title: 'SSO provider already exists',
    description: 'Another SSO provider has this name.',
  },
  'sso.provider_in_use': {
    status: 409,
    title: 'SSO provider in use',
    description:
      'Users sign in with this provider (authentication method `sso`); `users` says how many. Switch them to another provider or to a local password first, or disable the provider instead.',
  },
  'sso.name_invalid': {
    status: 400,
    title: 'Invalid provider name',
    description:
      'A provider name is part of its sign-in URLs: 2–40 characters of `a-z`, `0-9` and `-`, starting and ending with a letter or digit.',
  },
  'sso.name_immutable': {
    status: 400,
    title: 'Provider name cannot change',
    description:
      'A PUT carried a `name` different from the one in the URL; the name is part of the redirect URI registered at the provider, so it never changes.',
  },
  'sso.issuer_invalid': {
    status: 400,
    title: 'Invalid issuer',
    description:
      'The issuer must be an absolute `https://` URL without credentials, query or fragment (`http://` only on 127.0.0.1, ::1 or localhost); the detail says what is wrong. A preset without a fixed issuer needs one.',
  },
  'sso.openid_scope_required': {
    status: 400,
    title: 'The openid scope is required',
    description: '`scopes` must include `openid`: without it the provider issues no ID token.',
  },
  'sso.scopes_incompatible': {
    status: 400,
    title: 'Scopes do not fit the role',
    description:
      'The default role or a role-mapping entry names scopes its role cannot hold (the scope table of docs/permissions.md); `errors` points at them.',
  },
  'sso.role_mapping_invalid': {
    status: 400,
    title: 'Invalid role mapping',
    description:
      'A role-mapping value is blank or listed twice, or the provider has a role mapping but no groups claim to match it against; `errors` points at the entries.',
  },
});
