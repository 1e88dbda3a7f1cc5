import { type Static, type TSchema, Type } from 'typebox';
import { NAME_PATTERN } from '../../http/common-schemas.js';
import { BROKER_KINDS, type BrokerKind } from '../../integrations/broker-integration.js';
import { BROKER_KIND_DEFINITIONS } from '../../integrations/broker-kinds.js';

/**
 * Integration names follow the username rules (3–50 characters of `[A-Za-z0-9_.-]`), are unique
 * case-insensitively and immutable: they are the key in `/api/v1/brokers/{name}`.
 */
export const BrokerNameSchema = Type.String({ minLength: 3, maxLength: 50, pattern: NAME_PATTERN });
const KindSchema = Type.Enum(BROKER_KINDS, { type: 'string' });

type Definitions = typeof BROKER_KIND_DEFINITIONS;
/** The settings of some kind, as the API takes them. */
export type BrokerConfigInput = { [K in BrokerKind]: Static<Definitions[K]['schema']> }[BrokerKind];

/** The OpenAPI component name of a kind's settings schema. */
export function configComponentName(kind: BrokerKind): string {
  return `BrokerConfig-${kind}`;
}

/**
 * Each kind's settings schema, with its defaults and `x-broker-kind`, as OpenAPI components: what the API
 * documents and the console reads its defaults from (web/src/api/defaults.ts is generated from them).
 */
export const BROKER_CONFIG_COMPONENTS: Record<string, TSchema> = Object.fromEntries(
  Object.values(BROKER_KIND_DEFINITIONS).map((definition) => [
    configComponentName(definition.kind),
    definition.schema,
  ]),
);

/** A copy of `schema` without `default`s and annotations: route validation must not apply them inside anyOf. */
function plain(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(plain);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => key !== 'default' && key !== 'x-broker-kind')
      .map(([key, value]) => [key, plain(value)]),
  );
}

/**
 * Any kind's settings. The body is checked against its kind's own schema, defaults applied, by the service;
 * the route checks the shape only (Ajv cannot apply defaults inside anyOf).
 */
const ConfigUnion = Type.Unsafe<BrokerConfigInput>(
  Type.Union(
    Object.values(BROKER_KIND_DEFINITIONS).map((definition) => plain(definition.schema) as TSchema),
    {
      description:
        "The kind's settings: the schema BrokerConfig-<kind> with its defaults; secrets are write-only",
    },
  ),
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
  duty: Nullable(
    Type.Object(
      {
        instance: Type.String({ description: 'WARDEN_INSTANCE_ID of the instance running the duties' }),
        since: Type.String({ format: 'date-time' }),
        heartbeatAt: Type.String({ format: 'date-time' }),
        here: Type.Boolean({ description: 'whether the answering instance is that one' }),
      },
      { description: 'the instance that runs syncs, purges and kicks for every integration' },
    ),
  ),
});
