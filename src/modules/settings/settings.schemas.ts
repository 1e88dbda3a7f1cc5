import { type Static, Type } from 'typebox';

/** The largest `historyCount`; this much history is always kept, so raising the count applies at once. */
export const MAX_PASSWORD_HISTORY = 24;

export const PasswordPolicySchema = Type.Object(
  {
    minLength: Type.Integer({ minimum: 1, maximum: 128, default: 8 }),
    requireUppercase: Type.Boolean({ default: true }),
    requireLowercase: Type.Boolean({ default: true }),
    requireDigit: Type.Boolean({ default: true }),
    requireSpecial: Type.Boolean({ default: true }),
    /** 0 = passwords never expire. */
    maxAgeDays: Type.Integer({ minimum: 0, maximum: 3650, default: 0 }),
    /** How many previous passwords may not be reused; 0 = no history. */
    historyCount: Type.Integer({ minimum: 0, maximum: MAX_PASSWORD_HISTORY, default: 0 }),
  },
  { additionalProperties: false },
);
export type PasswordPolicy = Static<typeof PasswordPolicySchema>;

export const ThrottleSettingsSchema = Type.Object(
  {
    /** Password verifications per account per window (docs/authentication.md: 10 per 15 minutes). */
    maxAttemptsPerAccount: Type.Integer({ minimum: 1, maximum: 1000 }),
    /** Failed logins per client address per window, across all accounts. */
    maxAttemptsPerIp: Type.Integer({ minimum: 1, maximum: 100000 }),
    windowMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
  },
  { additionalProperties: false },
);

/**
 * What the embedded broker does with a PUBLISH the access rules refuse (docs/mqtt.md): `ignore` acknowledges it
 * as usual (PUBACK, or PUBREC…PUBCOMP) and drops it, as EMQX's `deny_action = ignore` and Mosquitto for MQTT 3.1.1;
 * `disconnect` closes the connection.
 */
export const MQTT_DENY_ACTIONS = ['ignore', 'disconnect'] as const;
export type MqttDenyAction = (typeof MQTT_DENY_ACTIONS)[number];

export const MqttSettingsSchema = Type.Object(
  { denyAction: Type.Enum(MQTT_DENY_ACTIONS, { type: 'string', default: 'ignore' }) },
  { additionalProperties: false },
);
export type MqttSettings = Static<typeof MqttSettingsSchema>;

const securityFields = {
  passwordPolicy: PasswordPolicySchema,
  throttle: ThrottleSettingsSchema,
  mfaRequiredRoles: Type.Array(Type.Enum(['viewer', 'operator', 'admin'], { type: 'string' }), {
    uniqueItems: true,
  }),
  defaultSessionTimeoutMinutes: Type.Integer({ minimum: 1, maximum: 525600 }),
  absoluteSessionHours: Type.Integer({ minimum: 1, maximum: 8760 }),
  /** 0 = unlimited; admins are never blocked by the cap. */
  maxConcurrentSessions: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
};

/**
 * Networks (CIDR, IPv4 or IPv6; a bare address is /32 or /128) the management API (`/api/v1/…` except broker
 * hooks and forward-auth) answers; empty = any address (docs/deployment.md#restricting-the-management-api).
 */
export const ApiAllowFromSchema = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  maxItems: 100,
  uniqueItems: true,
});

/** The security settings as stored and answered: every group present. */
export const SecuritySettingsSchema = Type.Object(
  { ...securityFields, mqtt: MqttSettingsSchema, apiAllowFrom: ApiAllowFromSchema },
  { additionalProperties: false },
);

/**
 * A replacement document (PUT, `warden settings set`): `mqtt` and `apiAllowFrom` came later and may be left out
 * by older clients and scripts; the stored value is then kept (the default when none is stored).
 */
export const SecuritySettingsInputSchema = Type.Object(
  {
    ...securityFields,
    mqtt: Type.Optional(MqttSettingsSchema),
    apiAllowFrom: Type.Optional(ApiAllowFromSchema),
  },
  { additionalProperties: false },
);
export type SecuritySettings = Static<typeof SecuritySettingsSchema>;

/** Shipped defaults (docs/authentication.md, docs/mqtt.md): password policy, sessions, throttling, MQTT. */
export const DEFAULT_SECURITY_SETTINGS: SecuritySettings = Object.freeze<SecuritySettings>({
  passwordPolicy: {
    minLength: 8,
    requireUppercase: true,
    requireLowercase: true,
    requireDigit: true,
    requireSpecial: true,
    maxAgeDays: 0,
    historyCount: 0,
  },
  throttle: { maxAttemptsPerAccount: 10, maxAttemptsPerIp: 100, windowMinutes: 15 },
  mfaRequiredRoles: [],
  defaultSessionTimeoutMinutes: 30,
  absoluteSessionHours: 12,
  maxConcurrentSessions: 0,
  mqtt: { denyAction: 'ignore' },
  apiAllowFrom: [],
});

/** Where a request came from, for the console's `apiAllowFrom` editor. */
export const RequesterAddressSchema = Type.Object({ address: Type.String() });
