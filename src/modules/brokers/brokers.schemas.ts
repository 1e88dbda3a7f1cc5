import { type Static, type TSchema, Type } from 'typebox';
import { NAME_PATTERN } from '../../http/common-schemas.js';
import { BROKER_KINDS } from '../../integrations/broker-integration.js';
import { CLIENT_ID_BINDINGS } from '../../integrations/mosquitto-dynsec/dynsec-model.js';

/**
 * Integration names follow the username rules (3–50 characters of `[A-Za-z0-9_.-]`), are unique
 * case-insensitively and immutable: they are the key in `/api/v1/brokers/{name}`.
 */
export const BrokerNameSchema = Type.String({ minLength: 3, maxLength: 50, pattern: NAME_PATTERN });
const KindSchema = Type.Enum(BROKER_KINDS, { type: 'string' });

/** A write-only secret: sent to set it, omitted to keep the stored one; never returned. */
const Secret = (description: string): TSchema =>
  Type.String({ minLength: 1, maxLength: 1024, description: `${description} (write-only: omit to keep)` });
/** An optional secret: additionally `null` removes it. */
const ClearableSecret = (description: string): TSchema =>
  Type.Union([Secret(description), Type.Null()], {
    description: `${description} (write-only: omit to keep, null to remove)`,
  });

const HookAccessSchema = Type.Object(
  {
    token: Type.Optional(
      ClearableSecret('Bearer token the broker sends (`Authorization: Bearer <token>`), ≥ 16 chars'),
    ),
    basic: Type.Optional(
      Type.Object(
        {
          username: Type.String({ minLength: 1, maxLength: 100 }),
          password: Type.Optional(Secret('HTTP Basic password')),
        },
        { additionalProperties: false },
      ),
    ),
    allowFrom: Type.Optional(
      Type.Array(Type.String({ maxLength: 64 }), {
        maxItems: 100,
        description: 'CIDRs allowed without a credential; default loopback only; [] = credential required',
      }),
    ),
    ratePerSecond: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        description: 'hook requests per second per source (default 50000)',
      }),
    ),
    burst: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'bucket size (default 100000)' }),
    ),
  },
  { additionalProperties: false, description: 'Who may call the hook endpoints' },
);

export const MosquittoConfigSchema = Type.Object(
  {
    url: Type.String({
      pattern: '^mqtts?://',
      maxLength: 500,
      description: 'mqtt:// or mqtts:// listener of the broker',
    }),
    adminUsername: Type.String({ minLength: 1, maxLength: 100, description: 'the dynsec admin client' }),
    adminPassword: Type.Optional(Secret("the dynsec admin's password (required on create)")),
    clientIdBinding: Type.Optional(
      Type.Enum(CLIENT_ID_BINDINGS, {
        type: 'string',
        description: '`none` (default): any client id; `username`: clients must use client id = username',
      }),
    ),
    timeoutMs: Type.Optional(
      Type.Integer({ minimum: 100, maximum: 60_000, description: 'command timeout (5000)' }),
    ),
    rejectUnauthorized: Type.Optional(Type.Boolean({ description: 'verify the TLS certificate (true)' })),
  },
  { additionalProperties: false, title: 'Mosquitto (dynamic security)' },
);

export const EmqxConfigSchema = Type.Object(
  {
    hook: Type.Optional(HookAccessSchema),
    managementUrl: Type.Optional(
      Type.String({
        pattern: '^https?://',
        maxLength: 500,
        description: 'EMQX REST API base, e.g. http://emqx:18083',
      }),
    ),
    apiKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'EMQX API key' })),
    apiSecret: Type.Optional(ClearableSecret('EMQX API secret')),
    authnAcl: Type.Optional(
      Type.Boolean({ description: 'also return publish rules as `acl` in the authn reply (default false)' }),
    ),
    unknownUser: Type.Optional(
      Type.Enum(['deny', 'ignore'], {
        type: 'string',
        description:
          'answer for users Warden does not know: deny (default) or ignore (next authenticator/source)',
      }),
    ),
  },
  { additionalProperties: false, title: 'EMQX 5 (HTTP hooks)' },
);

export const GoAuthConfigSchema = Type.Object(
  {
    hook: Type.Optional(HookAccessSchema),
    responseMode: Type.Optional(
      Type.Enum(['status', 'json', 'text'], {
        type: 'string',
        description: 'must equal auth_opt_http_response_mode (default status)',
      }),
    ),
  },
  { additionalProperties: false, title: 'mosquitto-go-auth (HTTP backend)' },
);

export const VernemqConfigSchema = Type.Object(
  {
    hook: Type.Optional(HookAccessSchema),
    unknownUser: Type.Optional(
      Type.Enum(['deny', 'next'], {
        type: 'string',
        description: 'answer for users Warden does not know: deny (default) or next (the next plugin)',
      }),
    ),
  },
  { additionalProperties: false, title: 'VerneMQ (webhooks)' },
);

/** The configuration schema of each kind; the service checks a body's config against its kind's schema. */
export const CONFIG_SCHEMAS = {
  mosquitto: MosquittoConfigSchema,
  emqx: EmqxConfigSchema,
  'go-auth': GoAuthConfigSchema,
  vernemq: VernemqConfigSchema,
} as const;

export type MosquittoConfigInput = Static<typeof MosquittoConfigSchema>;
export type EmqxConfigInput = Static<typeof EmqxConfigSchema>;
export type GoAuthConfigInput = Static<typeof GoAuthConfigSchema>;
export type VernemqConfigInput = Static<typeof VernemqConfigSchema>;
export type HookAccessInput = Static<typeof HookAccessSchema>;
export type BrokerConfigInput =
  | MosquittoConfigInput
  | EmqxConfigInput
  | GoAuthConfigInput
  | VernemqConfigInput;

const ConfigUnion = Type.Union(
  [MosquittoConfigSchema, EmqxConfigSchema, GoAuthConfigSchema, VernemqConfigSchema],
  {
    description: "The kind's settings; secrets are write-only",
  },
);

export const CreateBrokerBody = Type.Object(
  {
    name: BrokerNameSchema,
    kind: KindSchema,
    enabled: Type.Optional(Type.Boolean({ description: 'default true' })),
    config: ConfigUnion,
  },
  { additionalProperties: false },
);
export type CreateBrokerInput = Static<typeof CreateBrokerBody>;

export const UpdateBrokerBody = Type.Object(
  {
    /** Only accepted when equal to the URL's name (clients often send the whole object back). */
    name: Type.Optional(Type.String()),
    /** Only accepted when equal to the stored kind. */
    kind: Type.Optional(Type.String()),
    enabled: Type.Optional(Type.Boolean()),
    config: ConfigUnion,
    /** Optimistic concurrency: when sent, the update applies only to this version. */
    version: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type UpdateBrokerInput = Static<typeof UpdateBrokerBody>;

export const BrokerSchema = Type.Object({
  name: Type.String(),
  kind: KindSchema,
  enabled: Type.Boolean(),
  /** The settings without secrets. */
  config: Type.Record(Type.String(), Type.Unknown()),
  /** Paths of the secrets that are set (`adminPassword`, `hook.token`, `hook.basic.password`, `apiSecret`). */
  secrets: Type.Array(Type.String()),
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type PublicBroker = Static<typeof BrokerSchema>;

export const BrokerListSchema = Type.Object({ items: Type.Array(BrokerSchema), total: Type.Integer() });
export type BrokerList = Static<typeof BrokerListSchema>;

export const BrokerParams = Type.Object({ name: Type.String({ maxLength: 100 }) });

export const SyncQuery = Type.Object(
  { dryRun: Type.Optional(Type.Boolean({ description: 'only compute the diff (default false)' })) },
  { additionalProperties: false },
);

const ChangeSchema = Type.Object({
  action: Type.String(),
  target: Type.String(),
  name: Type.String(),
  detail: Type.String(),
  requests: Type.Array(Type.Unknown()),
});

export const SyncReportSchema = Type.Object({
  integration: Type.String(),
  kind: KindSchema,
  dryRun: Type.Boolean(),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.String({ format: 'date-time' }),
  changes: Type.Array(ChangeSchema),
  warnings: Type.Array(Type.String()),
});

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const BrokerStatusSchema = Type.Object({
  name: Type.String(),
  kind: KindSchema,
  enabled: Type.Boolean(),
  running: Type.Boolean(),
  connected: Nullable(Type.Boolean()),
  lastSyncAt: Nullable(Type.String({ format: 'date-time' })),
  lastSyncChanges: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  lastErrorAt: Nullable(Type.String({ format: 'date-time' })),
  pendingPasswords: Type.Optional(
    Type.Object({ count: Type.Integer(), usernames: Type.Array(Type.String()), queued: Type.Integer() }),
  ),
  hooks: Type.Optional(Type.Object({ requests: Type.Integer(), lastRequestAt: Nullable(Type.String()) })),
});
