import type { CreateSsoProviderBody, SsoPreset, SsoProvider, UpdateSsoProviderBody } from '../../api/types';
import type { Role, Scope } from '../../auth/permissions';

/** One role-mapping row being edited; `key` keeps React's rows stable while rows are added and removed. */
export interface MappingDraft {
  readonly key: number;
  readonly value: string;
  readonly role: Role;
  /** Empty: the role's default scopes. */
  readonly scopes: readonly Scope[];
}

/** The provider form's state: text as typed, the write-only secret apart from everything else. */
export interface ProviderDraft {
  readonly name: string;
  readonly displayName: string;
  readonly preset: SsoPreset['preset'];
  readonly issuer: string;
  readonly clientId: string;
  /** A new secret to store; '' keeps the stored one (or stores none). */
  readonly clientSecret: string;
  /** Remove the stored secret on save (a public client). */
  readonly removeSecret: boolean;
  /** Space-separated, as the OAuth `scope` parameter. */
  readonly scopes: string;
  readonly enabled: boolean;
  readonly autoProvision: boolean;
  readonly defaultRole: Role;
  /** False: the default role's default scopes (stored as null). */
  readonly customDefaultScopes: boolean;
  readonly defaultScopes: readonly Scope[];
  readonly emailClaim: string;
  readonly groupsClaim: string;
  readonly mapping: readonly MappingDraft[];
}

let nextKey = 1;
export function mappingRow(entry?: SsoProvider['roleMapping'][number]): MappingDraft {
  return {
    key: nextKey++,
    value: entry?.value ?? '',
    role: entry?.role ?? 'viewer',
    scopes: entry?.scopes ?? [],
  };
}

/** A new provider's form, prefilled from `preset`. */
export function newDraft(preset: SsoPreset): ProviderDraft {
  return withPreset(
    {
      name: '',
      displayName: '',
      preset: preset.preset,
      issuer: '',
      clientId: '',
      clientSecret: '',
      removeSecret: false,
      scopes: '',
      enabled: true,
      autoProvision: false,
      defaultRole: 'viewer',
      customDefaultScopes: false,
      defaultScopes: [],
      emailClaim: '',
      groupsClaim: '',
      mapping: [],
    },
    preset,
  );
}

/** The form of a stored provider (its secret is never known here: only whether one is stored). */
export function draftOf(provider: SsoProvider): ProviderDraft {
  return {
    name: provider.name,
    displayName: provider.displayName,
    preset: provider.preset,
    issuer: provider.issuer,
    clientId: provider.clientId,
    clientSecret: '',
    removeSecret: false,
    scopes: provider.scopes.join(' '),
    enabled: provider.enabled,
    autoProvision: provider.autoProvision,
    defaultRole: provider.defaultRole,
    customDefaultScopes: provider.defaultScopes !== null,
    defaultScopes: provider.defaultScopes ?? [],
    emailClaim: provider.emailClaim,
    groupsClaim: provider.groupsClaim,
    mapping: provider.roleMapping.map(mappingRow),
  };
}

/** What choosing a preset fills in: its issuer (when every tenant shares one), scopes and claims. */
export function withPreset(draft: ProviderDraft, preset: SsoPreset): ProviderDraft {
  return {
    ...draft,
    preset: preset.preset,
    issuer: preset.issuer ?? (draft.issuer === '' || isSomePresetsIssuer(draft.issuer) ? '' : draft.issuer),
    scopes: preset.scopes.join(' '),
    emailClaim: preset.emailClaim,
    groupsClaim: preset.groupsClaim,
    // A provider without groups has nothing to map.
    mapping: preset.groupsClaim === '' ? [] : draft.mapping,
  };
}

/** Google's fixed issuer, left behind when switching to a preset whose issuer names the tenant. */
function isSomePresetsIssuer(issuer: string): boolean {
  return issuer === 'https://accounts.google.com';
}

/** The fields the form is missing before it can be sent at all (the server checks everything else). */
export function missingFields(draft: ProviderDraft, creating: boolean): Set<'name' | 'issuer' | 'clientId'> {
  const missing = new Set<'name' | 'issuer' | 'clientId'>();
  if (creating && draft.name.trim() === '') missing.add('name');
  if (draft.issuer.trim() === '') missing.add('issuer');
  if (draft.clientId.trim() === '') missing.add('clientId');
  return missing;
}

/** The settings as the API takes them (create and update share them; the secret only when it changes). */
function settingsOf(draft: ProviderDraft) {
  return {
    displayName: draft.displayName.trim() || draft.name.trim(),
    preset: draft.preset,
    issuer: draft.issuer.trim(),
    clientId: draft.clientId.trim(),
    scopes: draft.scopes.split(/\s+/).filter(Boolean),
    enabled: draft.enabled,
    autoProvision: draft.autoProvision,
    defaultRole: draft.defaultRole,
    defaultScopes: draft.customDefaultScopes ? [...draft.defaultScopes] : null,
    emailClaim: draft.emailClaim.trim(),
    groupsClaim: draft.groupsClaim.trim(),
    roleMapping: draft.mapping.map((row) => ({
      value: row.value,
      role: row.role,
      ...(row.scopes.length > 0 ? { scopes: [...row.scopes] } : {}),
    })),
    ...(draft.clientSecret !== ''
      ? { clientSecret: draft.clientSecret }
      : draft.removeSecret
        ? { clientSecret: null }
        : {}),
  };
}

export function createBodyOf(draft: ProviderDraft): CreateSsoProviderBody {
  return { name: draft.name.trim(), ...settingsOf(draft) };
}

export function updateBodyOf(draft: ProviderDraft): UpdateSsoProviderBody {
  return settingsOf(draft);
}
