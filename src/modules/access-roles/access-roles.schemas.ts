import { type Static, Type } from 'typebox';
import { NAME_PATTERN, PageSizeSchema } from '../../http/common-schemas.js';

/** At most this many rules per role: bounds compile time and keeps a role reviewable. */
export const MAX_RULES_PER_ROLE = 500;

/**
 * Access-role names follow the username rules (3–50 characters of `[A-Za-z0-9_.-]`) and, like usernames, are
 * unique case-insensitively and immutable: they are the natural key in URLs and in users' `accessRoles`.
 */
export const AccessRoleNameSchema = Type.String({ minLength: 3, maxLength: 50, pattern: NAME_PATTERN });

const TOPIC_DESCRIPTION = 'MQTT topic filter (+, #); may use ${username} and ${clientid}';

const QosSchema = Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)]);

/**
 * One MQTT rule (docs/access-rules.md#roles-and-rules). The topic is checked by the rule engine rather than
 * here, so that a bad topic is reported as `access_role.invalid_rule` with the rule's index.
 */
export const MqttRuleSchema = Type.Object(
  {
    permission: Type.Enum(['allow', 'deny'], { type: 'string' }),
    action: Type.Enum(['publish', 'subscribe', 'all'], { type: 'string' }),
    topic: Type.String({ description: TOPIC_DESCRIPTION }),
    qos: Type.Optional(
      Type.Array(QosSchema, { uniqueItems: true, maxItems: 3, description: 'omitted = every QoS' }),
    ),
    retain: Type.Optional(
      Type.Boolean({ description: 'publishes/deliveries with this retain flag only; omitted = both' }),
    ),
  },
  { additionalProperties: false },
);

/**
 * One HTTP rule (docs/access-rules.md#http-rules), decided for requests a reverse proxy forwards. Methods and
 * path are checked by the rule engine, so that a bad one is reported as `access_role.invalid_rule` with the
 * rule's index and what is wrong.
 */
export const HttpRuleSchema = Type.Object(
  {
    permission: Type.Enum(['allow', 'deny'], { type: 'string' }),
    action: Type.Literal('http'),
    methods: Type.Optional(
      Type.Array(Type.String({ maxLength: 16 }), {
        maxItems: 16,
        description: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS; omitted = every method',
      }),
    ),
    path: Type.String({
      maxLength: 4096,
      description: 'path pattern: * = one segment, ** (last only) = any rest; may use ${username}',
    }),
  },
  { additionalProperties: false },
);
export type HttpRuleJson = Static<typeof HttpRuleSchema>;

/** A rule of an access role: MQTT or HTTP, told apart by `action`. */
export const AccessRuleSchema = Type.Union([MqttRuleSchema, HttpRuleSchema]);
/** A rule as JSON carries it (the engine's RoleRule, with mutable lists). */
export type AccessRuleJson = Static<typeof AccessRuleSchema>;
/** An MQTT rule as JSON carries it. */
export type MqttRuleJson = Static<typeof MqttRuleSchema>;

const RulesSchema = Type.Array(AccessRuleSchema, {
  description: `Evaluated in order, first match wins; at most ${MAX_RULES_PER_ROLE}`,
});
const DescriptionSchema = Type.String({ maxLength: 500 });

export const CreateAccessRoleBody = Type.Object(
  {
    name: AccessRoleNameSchema,
    description: Type.Optional(DescriptionSchema),
    rules: Type.Optional(RulesSchema),
  },
  { additionalProperties: false },
);
export type CreateAccessRoleInput = Static<typeof CreateAccessRoleBody>;

export const UpdateAccessRoleBody = Type.Object(
  {
    /** Only accepted when equal to the URL's name (clients often send the whole object back). */
    name: Type.Optional(Type.String()),
    description: Type.Optional(DescriptionSchema),
    rules: RulesSchema,
    /** Optimistic concurrency: when sent, the update applies only to this version. */
    version: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type UpdateAccessRoleInput = Static<typeof UpdateAccessRoleBody>;

export const AccessRoleSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  rules: Type.Array(AccessRuleSchema),
  version: Type.Integer(),
  /** How many users hold the role. */
  userCount: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type PublicAccessRole = Static<typeof AccessRoleSchema>;

export const AccessRoleListSchema = Type.Object({
  items: Type.Array(AccessRoleSchema),
  total: Type.Integer(),
  page: Type.Integer(),
  pageSize: Type.Integer(),
});
export type AccessRoleList = Static<typeof AccessRoleListSchema>;

export const ListAccessRolesQuery = Type.Object(
  {
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
    pageSize: Type.Optional(PageSizeSchema),
  },
  { additionalProperties: false },
);
export type ListAccessRolesInput = Static<typeof ListAccessRolesQuery>;

export const AccessRoleParams = Type.Object({ name: Type.String({ maxLength: 100 }) });

export const DeleteAccessRoleQuery = Type.Object(
  { force: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);
