import { defineErrors } from '../../core/errors/app-error.js';

/**
 * Why a single sign-on did not sign anyone in (docs/sso.md#signing-in). A browser never sees these as problem
 * documents: the sign-in routes send it back to the console's `/login?ssoError=<code>`, which says it in words.
 * Only a client that is not a browser navigation (a script calling the start route) gets the problem itself.
 */
export const ssoLoginError = defineErrors({
  'sso.provider_not_enabled': {
    status: 404,
    title: 'No such SSO provider',
    description: 'No enabled SSO provider has this name (it was deleted or disabled meanwhile).',
  },
  'sso.provider_unavailable': {
    status: 503,
    title: 'SSO provider unreachable',
    description:
      'The provider did not answer (discovery, token or userinfo request failed or timed out), or its client secret cannot be opened with this instance’s key. Nothing weaker is tried instead; sign in again later.',
  },
  'sso.state_invalid': {
    status: 400,
    title: 'Sign-in expired or not started here',
    description:
      'The provider sent the browser back without a matching sign-in in progress: the sign-in took longer than 10 minutes, was started in another browser or tab, or the answer was forged or replayed.',
  },
  'sso.provider_denied': {
    status: 401,
    title: 'The provider refused the sign-in',
    description:
      'The provider answered with an error instead of a sign-in (e.g. `access_denied`: the user cancelled, or is not allowed to use this application).',
  },
  'sso.login_failed': {
    status: 401,
    title: 'Sign-in could not be verified',
    description:
      'The provider’s answer did not pass validation (an authorization code that is wrong or already used, an ID token with the wrong nonce, audience, issuer or signature), or no user could be provisioned for it.',
  },
  'sso.email_unverified': {
    status: 403,
    title: 'No verified email',
    description:
      'The provider did not assert a verified email address (`email_verified` true) for a user who is not linked yet: Warden matches and provisions users only by verified email.',
  },
  'sso.user_unknown': {
    status: 403,
    title: 'No Warden account',
    description:
      'No Warden user signs in with this provider and this email, and the provider does not provision users automatically; an admin must create the user (authentication method SSO) first.',
  },
  'sso.user_conflict': {
    status: 409,
    title: 'Account signs in another way',
    description:
      'A Warden user with this email signs in with a local password or another provider (or is linked to another account of this provider); it is never converted silently. An admin switches its authentication method first.',
  },
  'sso.user_inactive': {
    status: 403,
    title: 'Account deactivated',
    description: 'The Warden user of this sign-in is deactivated.',
  },
});

export type SsoLoginErrorCode = keyof typeof ssoLoginError.catalog;
