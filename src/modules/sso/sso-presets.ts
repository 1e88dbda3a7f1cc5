import type { SsoPreset } from './sso-provider-config.js';

/**
 * What a preset fills in for a new provider (docs/sso.md#presets): the fields a provider of that kind always has,
 * so that an administrator only adds the tenant and the client. Every prefilled field stays editable; a preset is
 * remembered with the provider only to show the matching hints again.
 */
export interface SsoPresetDefinition {
  readonly preset: SsoPreset;
  readonly label: string;
  /** The issuer every tenant shares (Google), or null when the issuer names the tenant. */
  readonly issuer: string | null;
  /** The issuer's shape with `<placeholders>` to fill in (the console's placeholder text). */
  readonly issuerPattern: string;
  readonly scopes: readonly string[];
  readonly emailClaim: string;
  /** The claim holding the user's groups; '' when the provider sends none (Google). */
  readonly groupsClaim: string;
  /** One paragraph: what to register at the provider and what the claims hold. */
  readonly hint: string;
  /** The section of docs/sso.md with the worked example. */
  readonly docs: string;
}

export const SSO_PRESETS: readonly SsoPresetDefinition[] = [
  {
    preset: 'keycloak',
    label: 'Keycloak',
    issuer: null,
    issuerPattern: 'https://<host>/realms/<realm>',
    scopes: ['openid', 'email', 'profile'],
    emailClaim: 'email',
    groupsClaim: 'groups',
    hint:
      'Create an OpenID Connect client (client authentication on, standard flow) with the redirect URI below. ' +
      'Groups reach Warden through a "Group Membership" mapper on the client\'s dedicated scope: token claim ' +
      'name "groups", "Full group path" off, "Add to ID token" and "Add to userinfo" on.',
    docs: 'docs/sso.md#keycloak',
  },
  {
    preset: 'entra',
    label: 'Microsoft Entra ID',
    issuer: null,
    issuerPattern: 'https://login.microsoftonline.com/<tenant id>/v2.0',
    scopes: ['openid', 'email', 'profile'],
    emailClaim: 'email',
    groupsClaim: 'groups',
    hint:
      'Register an application (Web platform) with the redirect URI below and create a client secret. The ' +
      '"email" claim needs the optional claim "email" (or use "preferred_username"). For groups, add a groups ' +
      'claim under Token configuration: the values are group object ids; or map app roles with the claim "roles".',
    docs: 'docs/sso.md#microsoft-entra-id',
  },
  {
    preset: 'google',
    label: 'Google',
    issuer: 'https://accounts.google.com',
    issuerPattern: 'https://accounts.google.com',
    scopes: ['openid', 'email', 'profile'],
    emailClaim: 'email',
    groupsClaim: '',
    hint:
      'Create an OAuth client ID of type "Web application" in the Google Cloud console with the redirect URI ' +
      'below. Google sends no groups claim, so there is no role mapping: users get the default role.',
    docs: 'docs/sso.md#google',
  },
  {
    preset: 'generic',
    label: 'OpenID Connect',
    issuer: null,
    issuerPattern: 'https://<issuer>',
    scopes: ['openid', 'email', 'profile'],
    emailClaim: 'email',
    groupsClaim: 'groups',
    hint:
      'Any OpenID Connect provider with discovery (<issuer>/.well-known/openid-configuration) and the ' +
      'authorization code flow. Register the redirect URI below; name the claims that carry the email and groups.',
    docs: 'docs/sso.md#other-providers',
  },
];

export function presetDefinition(preset: SsoPreset): SsoPresetDefinition {
  return SSO_PRESETS.find((definition) => definition.preset === preset) as SsoPresetDefinition;
}
