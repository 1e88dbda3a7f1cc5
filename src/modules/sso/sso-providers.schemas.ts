import { type Static, Type } from 'typebox';
import { ROLES, SCOPES } from '../permissions/permissions.policy.js';
import { RoleInputSchema } from '../users/users.schemas.js';
import type { SsoPreset } from './sso-provider-config.js';

export const SSO_PRESET_NAMES = [
  'keycloak',
  'entra',
  'google',
  'generic',
] as const satisfies readonly SsoPreset[];

/** Most role-mapping entries a provider may have. */
export const MAX_ROLE_MAPPING = 100;

const PresetSchema = Type.Enum(SSO_PRESET_NAMES, { type: 'string' });
const ScopesSchema = Type.Array(Type.Enum(SCOPES, { type: 'string' }), {
  uniqueItems: true,
  maxItems: SCOPES.length,
});
/** An OAuth scope token (RFC 6749 §3.3: printable ASCII without space, `"` and `\`). */
const OidcScopeSchema = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$',
});
const ClaimSchema = Type.String({ minLength: 1, maxLength: 100 });

const NameSchema = Type.String({
  maxLength: 100,
  description: 'the URL segment of its sign-in routes: 2–40 characters of a-z, 0-9 and -; never changes',
});

const RoleMappingEntrySchema = Type.Object(
  {
    value: Type.String({ minLength: 1, maxLength: 500, description: 'a value of the groups claim' }),
    role: RoleInputSchema,
    scopes: Type.Optional(
      Type.Array(Type.Enum(SCOPES, { type: 'string' }), {
        uniqueItems: true,
        maxItems: SCOPES.length,
        description: "omitted: the role's default scopes",
      }),
    ),
  },
  { additionalProperties: false },
);

/** The fields a provider is configured with; every one optional here (create and PUT add their rules). */
const providerFields = {
  displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'default: the name' })),
  preset: Type.Optional(PresetSchema),
  issuer: Type.Optional(
    Type.String({
      maxLength: 2000,
      description:
        "https:// (http:// only on a loopback host); the Google preset's is filled in when omitted",
    }),
  ),
  clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  clientSecret: Type.Optional(
    Type.Union([Type.String({ minLength: 1, maxLength: 4000 }), Type.Null()], {
      description:
        'write-only: never answered. Omitted on update: the stored one is kept; null: none (a public client)',
    }),
  ),
  scopes: Type.Optional(
    Type.Array(OidcScopeSchema, {
      uniqueItems: true,
      minItems: 1,
      maxItems: 30,
      description: "must include openid; default: the preset's",
    }),
  ),
  enabled: Type.Optional(Type.Boolean({ description: 'default true' })),
  autoProvision: Type.Optional(
    Type.Boolean({ description: 'create unknown users at their first sign-in (default false)' }),
  ),
  defaultRole: Type.Optional(RoleInputSchema),
  defaultScopes: Type.Optional(
    Type.Union([ScopesSchema, Type.Null()], { description: "null or omitted: the default role's defaults" }),
  ),
  emailClaim: Type.Optional(ClaimSchema),
  groupsClaim: Type.Optional(
    Type.String({ maxLength: 100, description: "'' = the provider sends no groups (no role mapping)" }),
  ),
  roleMapping: Type.Optional(
    Type.Array(RoleMappingEntrySchema, {
      maxItems: MAX_ROLE_MAPPING,
      description: 'the highest role among all matching entries wins, their scopes united (docs/sso.md)',
    }),
  ),
};

export const CreateSsoProviderBody = Type.Object(
  { name: NameSchema, ...providerFields, clientId: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);
export type CreateSsoProviderInput = Static<typeof CreateSsoProviderBody>;

/** Changes the fields it names; the others keep their values. */
export const UpdateSsoProviderBody = Type.Object(
  {
    name: Type.Optional(
      Type.String({ maxLength: 100, description: "only accepted when equal to the URL's" }),
    ),
    ...providerFields,
  },
  { additionalProperties: false },
);
export type UpdateSsoProviderInput = Static<typeof UpdateSsoProviderBody>;

/**
 * An unsaved form to test: with `name` of a stored provider, its client secret stands in for an omitted one
 * (editing a provider shows no secret).
 */
export const TestSsoProviderBody = Type.Object(
  { name: Type.Optional(NameSchema), ...providerFields },
  { additionalProperties: false },
);
export type TestSsoProviderInput = Static<typeof TestSsoProviderBody>;

export const SsoProviderSchema = Type.Object({
  name: Type.String(),
  displayName: Type.String(),
  preset: PresetSchema,
  issuer: Type.String(),
  clientId: Type.String(),
  hasClientSecret: Type.Boolean({ description: 'the secret itself is never answered' }),
  clientSecretUnreadable: Type.Boolean({
    description: 'a secret is stored but does not open with this WARDEN_SECRET_KEY: enter it again',
  }),
  scopes: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  autoProvision: Type.Boolean(),
  defaultRole: Type.Enum(ROLES, { type: 'string' }),
  defaultScopes: Type.Union([Type.Array(Type.Enum(SCOPES, { type: 'string' })), Type.Null()]),
  emailClaim: Type.String(),
  groupsClaim: Type.String(),
  roleMapping: Type.Array(
    Type.Object({
      value: Type.String(),
      role: Type.Enum(ROLES, { type: 'string' }),
      scopes: Type.Optional(Type.Array(Type.Enum(SCOPES, { type: 'string' }))),
    }),
  ),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type PublicSsoProvider = Static<typeof SsoProviderSchema>;

export const SsoProviderListSchema = Type.Object({
  items: Type.Array(SsoProviderSchema),
  total: Type.Integer(),
});
export type SsoProviderList = Static<typeof SsoProviderListSchema>;

export const SsoProviderParams = Type.Object({ name: Type.String({ maxLength: 100 }) });

/** The answer of "test connection": what discovery found, or the provider's own error. */
export const SsoTestResultSchema = Type.Object({
  ok: Type.Boolean(),
  issuer: Type.Optional(Type.String()),
  authorizationEndpoint: Type.Optional(Type.String()),
  tokenEndpoint: Type.Optional(Type.String()),
  userinfoEndpoint: Type.Optional(Type.String()),
  endSessionEndpoint: Type.Optional(Type.String()),
  scopesSupported: Type.Optional(Type.Array(Type.String())),
  claimsSupported: Type.Optional(Type.Array(Type.String())),
  /** Configured scopes or claims the provider does not advertise (advice: the provider may still send them). */
  warnings: Type.Optional(Type.Array(Type.String())),
  error: Type.Optional(
    Type.String({ description: "ok false: the provider's error as openid-client reports it" }),
  ),
  errorCode: Type.Optional(Type.String({ description: "openid-client's code for it, when it has one" })),
});
export type SsoTestResult = Static<typeof SsoTestResultSchema>;

export const SsoPresetSchema = Type.Object({
  preset: PresetSchema,
  label: Type.String(),
  issuer: Type.Union([Type.String(), Type.Null()]),
  issuerPattern: Type.String(),
  scopes: Type.Array(Type.String()),
  emailClaim: Type.String(),
  groupsClaim: Type.String(),
  hint: Type.String(),
  docs: Type.String(),
});

export const SsoPresetListSchema = Type.Object({ items: Type.Array(SsoPresetSchema) });
