import type { ProblemItem } from '../../core/errors/app-error.js';
import {
  defaultScopes,
  incompatibleScopes,
  normalizeScopes,
  parseRole,
  type Role,
  type Scope,
} from '../permissions/permissions.policy.js';
import { issuerProblem } from './oidc-discovery.js';
import { ssoError } from './sso.errors.js';
import type { NewSsoProviderRow } from './sso.table.js';
import { presetDefinition } from './sso-presets.js';
import type { ProviderSettings } from './sso-provider-config.js';
import type { UpdateSsoProviderInput } from './sso-providers.schemas.js';

// A provider's settings as management validates and stores them (docs/sso.md#providers): filled in from the
// request, the stored provider and its preset; refused with a stable code where the schema cannot tell.

/** A provider name: a URL segment of its sign-in routes and of the redirect URI registered at the provider. */
const NAME = /^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$/;

export type SettingsInput = Omit<UpdateSsoProviderInput, 'name' | 'clientSecret'>;

/** The rights a provider can give its users: its default role, and each role-mapping entry. */
export function grantsOf(
  settings: Pick<ProviderSettings, 'defaultRole' | 'defaultScopes' | 'roleMapping'>,
): Array<{ role: Role; scopes: readonly Scope[] }> {
  return [
    { role: settings.defaultRole, scopes: settings.defaultScopes ?? defaultScopes(settings.defaultRole) },
    ...settings.roleMapping.map((entry) => ({
      role: entry.role,
      scopes: entry.scopes ?? defaultScopes(entry.role),
    })),
  ];
}

/** Refuses what the schema cannot: the issuer rule, the openid scope, role/scope fit, a usable role mapping. */
export function validate(settings: ProviderSettings): void {
  const issuer = issuerProblem(settings.issuer);
  if (issuer !== null) {
    throw ssoError('sso.issuer_invalid', `The issuer ${issuer}`, {
      errors: [{ pointer: '/body/issuer', message: issuer }],
    });
  }
  if (!settings.scopes.includes('openid')) {
    throw ssoError('sso.openid_scope_required', 'scopes must include openid', {
      errors: [{ pointer: '/body/scopes', message: 'must include openid' }],
    });
  }
  const incompatible: ProblemItem[] = [];
  const bad = incompatibleScopes(settings.defaultRole, settings.defaultScopes ?? []);
  if (bad.length > 0) {
    incompatible.push({
      pointer: '/body/defaultScopes',
      message: `${settings.defaultRole} cannot hold ${bad.join(', ')}`,
    });
  }
  settings.roleMapping.forEach((entry, index) => {
    const wrong = incompatibleScopes(entry.role, entry.scopes ?? []);
    if (wrong.length > 0) {
      incompatible.push({
        pointer: `/body/roleMapping/${index}/scopes`,
        message: `${entry.role} cannot hold ${wrong.join(', ')}`,
      });
    }
  });
  if (incompatible.length > 0) {
    throw ssoError('sso.scopes_incompatible', incompatible.map((item) => item.message).join('; '), {
      errors: incompatible,
    });
  }
  const mapping: ProblemItem[] = [];
  const seen = new Set<string>();
  settings.roleMapping.forEach((entry, index) => {
    const pointer = `/body/roleMapping/${index}/value`;
    if (entry.value.trim() === '') mapping.push({ pointer, message: 'must not be blank' });
    else if (seen.has(entry.value)) mapping.push({ pointer, message: `"${entry.value}" is listed twice` });
    seen.add(entry.value);
  });
  if (settings.roleMapping.length > 0 && settings.groupsClaim === '') {
    mapping.push({ pointer: '/body/groupsClaim', message: 'a role mapping needs a groups claim to match' });
  }
  if (mapping.length > 0) {
    throw ssoError('sso.role_mapping_invalid', mapping.map((item) => item.message).join('; '), {
      errors: mapping,
    });
  }
}

export function validateName(name: string): void {
  if (!NAME.test(name)) {
    throw ssoError(
      'sso.name_invalid',
      'A provider name is 2–40 characters of a-z, 0-9 and -, starting and ending with a letter or digit',
      { errors: [{ pointer: '/body/name', message: 'must be 2–40 characters of a-z, 0-9 and -' }] },
    );
  }
}

function roleOf(value: string): Role {
  return parseRole(value) ?? 'viewer';
}

/**
 * The settings `input` describes on top of `base` (a stored provider being changed, or null for a new one,
 * whose omitted fields come from its preset).
 */
export function settingsFrom(
  input: SettingsInput,
  base: ProviderSettings | null,
  name: string,
): ProviderSettings {
  const preset = input.preset ?? base?.preset ?? 'generic';
  const definition = presetDefinition(preset);
  const issuer = input.issuer ?? base?.issuer ?? definition.issuer;
  if (issuer === null) {
    throw ssoError(
      'sso.issuer_invalid',
      `The ${definition.label} preset needs the issuer (${definition.issuerPattern})`,
      {
        errors: [{ pointer: '/body/issuer', message: 'is required' }],
      },
    );
  }
  const defaultRole =
    input.defaultRole === undefined ? (base?.defaultRole ?? 'viewer') : roleOf(input.defaultRole);
  const inputScopes = input.defaultScopes;
  return {
    displayName: input.displayName ?? base?.displayName ?? name,
    preset,
    issuer,
    clientId: input.clientId ?? base?.clientId ?? '',
    scopes: input.scopes ?? base?.scopes ?? definition.scopes,
    enabled: input.enabled ?? base?.enabled ?? true,
    autoProvision: input.autoProvision ?? base?.autoProvision ?? false,
    defaultRole,
    defaultScopes:
      inputScopes === undefined
        ? (base?.defaultScopes ?? null)
        : inputScopes === null
          ? null
          : normalizeScopes(inputScopes),
    emailClaim: input.emailClaim ?? base?.emailClaim ?? definition.emailClaim,
    groupsClaim: input.groupsClaim ?? base?.groupsClaim ?? definition.groupsClaim,
    roleMapping:
      input.roleMapping?.map((entry) => ({
        value: entry.value,
        role: roleOf(entry.role),
        ...(entry.scopes === undefined ? {} : { scopes: normalizeScopes(entry.scopes) }),
      })) ??
      base?.roleMapping ??
      [],
  };
}

/** The columns of `sso_providers` the settings fill (the name, secret and times are the service's). */
export function columnsOf(
  settings: ProviderSettings,
): Omit<NewSsoProviderRow, 'name' | 'client_secret_sealed' | 'created_at' | 'updated_at'> {
  return {
    display_name: settings.displayName,
    preset: settings.preset,
    issuer: settings.issuer,
    client_id: settings.clientId,
    scopes: JSON.stringify(settings.scopes),
    enabled: settings.enabled ? 1 : 0,
    auto_provision: settings.autoProvision ? 1 : 0,
    default_role: settings.defaultRole,
    default_scopes: settings.defaultScopes === null ? null : JSON.stringify(settings.defaultScopes),
    email_claim: settings.emailClaim,
    groups_claim: settings.groupsClaim,
    role_mapping: JSON.stringify(settings.roleMapping),
  };
}
