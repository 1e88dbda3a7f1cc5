import { type Static, Type } from 'typebox';
import { NameSchema, PageSizeSchema } from '../../http/common-schemas.js';
import { ROLES, SCOPES } from '../permissions/permissions.policy.js';

export const USER_KINDS = ['person', 'service', 'device'] as const;
export type UserKind = (typeof USER_KINDS)[number];

/** Devices and services: they log in to MQTT only, with a secret that stays in use (machine credentials). */
export function isMachineKind(kind: string): boolean {
  return kind === 'device' || kind === 'service';
}
export const MAX_SESSION_TIMEOUT_MINUTES = 525600;

/** Usernames follow the common name rule (docs/permissions.md). */
export const UsernameSchema = NameSchema;
const EmailSchema = Type.String({ format: 'email', maxLength: 254 });
/** Accepts the alias `editor` (= operator); responses always carry the canonical name. */
export const RoleInputSchema = Type.Enum([...ROLES, 'editor'], { type: 'string' });
const RoleSchema = Type.Enum(ROLES, { type: 'string' });
const ScopeSchema = Type.Enum(SCOPES, { type: 'string' });
const ScopesSchema = Type.Array(ScopeSchema, { uniqueItems: true, maxItems: SCOPES.length });
const KindSchema = Type.Enum(USER_KINDS, { type: 'string' });
const DescriptionSchema = Type.String({ maxLength: 500 });
const TimeoutSchema = Type.Integer({ minimum: 0, maximum: MAX_SESSION_TIMEOUT_MINUTES });
/**
 * Names of access roles (docs/mqtt.md#access-roles), in evaluation order; unknown names answer 400
 * access_role.unknown.
 */
const AccessRoleNamesSchema = Type.Array(Type.String({ maxLength: 100 }), {
  uniqueItems: true,
  maxItems: 100,
  description: 'Ordered access-role names: the first role is evaluated first',
});
export const AUTH_METHODS = ['local', 'sso'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
/** How a user signs in (docs/sso.md#users-and-the-authentication-method). */
const AuthMethodSchema = Type.Enum(AUTH_METHODS, {
  type: 'string',
  description:
    '`local`: a password kept by Warden; `sso`: the SSO provider named by `ssoProvider` (a person with an email, no usable password)',
});
/** Unknown names answer 400 user.sso_provider_unknown. */
const SsoProviderNameSchema = Type.String({
  minLength: 1,
  maxLength: 100,
  description: 'The SSO provider an `sso` user signs in with',
});
/** Length and content rules are the password policy's (400 password.policy); this only bounds the body. */
const PASSWORD_BOUNDS = { minLength: 1, maxLength: 4096 } as const;
export const PasswordSchema = Type.String(PASSWORD_BOUNDS);

export const CreateUserBody = Type.Object(
  {
    username: UsernameSchema,
    password: Type.Optional(
      Type.String({
        ...PASSWORD_BOUNDS,
        description:
          "Leave it out to have Warden generate one, answered once as `generatedPassword`: a device's or service's MQTT secret (stored with the keyed fast hash), or a person's one-time password, to be changed at the first login. Not for an `sso` user (400 user.sso_password)",
      }),
    ),
    authMethod: Type.Optional(AuthMethodSchema),
    ssoProvider: Type.Optional(SsoProviderNameSchema),
    role: RoleInputSchema,
    email: Type.Optional(EmailSchema),
    description: Type.Optional(DescriptionSchema),
    scopes: Type.Optional(ScopesSchema),
    kind: Type.Optional(KindSchema),
    sessionTimeoutMinutes: Type.Optional(TimeoutSchema),
    accessRoles: Type.Optional(AccessRoleNamesSchema),
  },
  { additionalProperties: false },
);
export type CreateUserInput = Static<typeof CreateUserBody>;
/** A new user's profile, for a password Warden generates. */
export type NewUserInput = Omit<CreateUserInput, 'password'>;

export const UpdateUserBody = Type.Object(
  {
    /** Only accepted when equal to the URL's username (clients often send the whole object back). */
    username: Type.Optional(Type.String()),
    /**
     * A switch ends the user's sessions; `sso` → `local` answers a one-time password as `generatedPassword`
     * (docs/sso.md#users-and-the-authentication-method).
     */
    authMethod: Type.Optional(AuthMethodSchema),
    ssoProvider: Type.Optional(SsoProviderNameSchema),
    email: Type.Optional(Type.Union([EmailSchema, Type.Null()])),
    description: Type.Optional(DescriptionSchema),
    role: Type.Optional(RoleInputSchema),
    scopes: Type.Optional(ScopesSchema),
    kind: Type.Optional(KindSchema),
    sessionTimeoutMinutes: Type.Optional(TimeoutSchema),
    accessRoles: Type.Optional(AccessRoleNamesSchema),
  },
  { additionalProperties: false },
);
export type UpdateUserInput = Static<typeof UpdateUserBody>;

export const SetPasswordBody = Type.Object(
  {
    password: PasswordSchema,
    /** Make the user choose a new password at next login (for temporary passwords). */
    mustChange: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ChangeOwnPasswordBody = Type.Object(
  { currentPassword: PasswordSchema, password: PasswordSchema },
  { additionalProperties: false },
);

export const UserSchema = Type.Object({
  username: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  description: Type.String(),
  kind: KindSchema,
  role: RoleSchema,
  scopes: Type.Array(ScopeSchema),
  active: Type.Boolean(),
  protected: Type.Boolean(),
  authMethod: Type.Enum(AUTH_METHODS, { type: 'string' }),
  /** The provider of an `sso` user; kept after a switch back to `local`, so one sees where the user came from. */
  ssoProvider: Type.Union([Type.String(), Type.Null()]),
  mfaEnabled: Type.Boolean(),
  sessionTimeoutMinutes: Type.Integer(),
  accessRoles: Type.Array(Type.String()),
  mustChangePassword: Type.Boolean(),
  lastLoginAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type PublicUser = Static<typeof UserSchema>;

/** A created user, with the password Warden generated when the request had none (shown only this once). */
export const CreatedUserSchema = Type.Object({
  ...UserSchema.properties,
  generatedPassword: Type.Optional(
    Type.String({
      description: 'Only when Warden generated the password: shown this once, never stored in clear',
    }),
  ),
});

/** An updated user, with the one-time password a switch from `sso` to `local` drew (shown only this once). */
export const UpdatedUserSchema = Type.Object({
  ...UserSchema.properties,
  generatedPassword: Type.Optional(
    Type.String({
      description:
        'Only after a switch from `sso` to `local`: the one-time password to hand over, to be changed at the next login',
    }),
  ),
});

/** The longest grace period of a secret rotation: a week. */
export const MAX_GRACE_MINUTES = 10_080;

export const RotateSecretBody = Type.Object(
  {
    graceMinutes: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_GRACE_MINUTES,
        default: 0,
        description:
          'How long the previous secret stays valid for MQTT, in minutes (0: it stops at once and live connections close)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RotateSecretInput = Static<typeof RotateSecretBody>;

export const RotatedSecretSchema = Type.Object({
  secret: Type.String({ description: 'The new secret: shown this once, never stored in clear' }),
  previousSecretValidUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'Until when the previous secret is still accepted; null when it stopped at once',
  }),
});

export const ListUsersQuery = Type.Object(
  {
    search: Type.Optional(Type.String({ maxLength: 100 })),
    role: Type.Optional(RoleInputSchema),
    includeInactive: Type.Optional(Type.Boolean({ default: false })),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
    pageSize: Type.Optional(PageSizeSchema),
  },
  { additionalProperties: false },
);
export type ListUsersInput = Static<typeof ListUsersQuery>;

export const UserListSchema = Type.Object({
  items: Type.Array(UserSchema),
  total: Type.Integer(),
  page: Type.Integer(),
  pageSize: Type.Integer(),
});
