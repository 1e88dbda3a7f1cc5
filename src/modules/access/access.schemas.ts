import { type Static, Type } from 'typebox';
import { AccessRuleSchema, MqttRuleSchema } from '../access-roles/access-roles.schemas.js';

const QosSchema = Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)]);

/** Why a decision was taken: the engine's reasons, plus `user_inactive` for a deactivated user. */
export const DECISION_REASONS = [
  'rule',
  'no_match',
  'partial',
  'invalid_topic',
  'sys_publish',
  'invalid_request',
  'invalid_path',
  'user_inactive',
] as const;

export const MqttExplainBody = Type.Object(
  {
    username: Type.String({ maxLength: 100 }),
    /** Without it, rules using `${clientid}` cannot match. */
    clientid: Type.Optional(Type.String({ maxLength: 65535 })),
    action: Type.Enum(['publish', 'subscribe', 'receive'], {
      type: 'string',
      description: '`receive` = delivery of a published message to this subscriber',
    }),
    topic: Type.String({ description: 'A topic name (publish, receive) or filter (subscribe)' }),
    qos: Type.Optional(QosSchema),
    retain: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type MqttExplainInput = Static<typeof MqttExplainBody>;

/** An HTTP request as a reverse proxy would forward it (docs/access-rules.md#http-rules). */
export const HttpExplainBody = Type.Object(
  {
    username: Type.String({ maxLength: 100 }),
    action: Type.Literal('http'),
    method: Type.String({ maxLength: 32, description: 'the request method, e.g. GET' }),
    path: Type.String({
      maxLength: 8192,
      description: 'the request target as the proxy sends it (query and percent-encoding included)',
    }),
  },
  { additionalProperties: false },
);
export type HttpExplainInput = Static<typeof HttpExplainBody>;

/** An MQTT request (publish, subscribe, receive) or an HTTP request (`action: "http"`). */
export const ExplainBody = Type.Union([MqttExplainBody, HttpExplainBody]);
export type ExplainInput = Static<typeof ExplainBody>;

/** A deny rule that takes topics out of a partially granted subscription (docs/access-rules.md). */
export const CarveOutSchema = Type.Object({
  role: Type.String(),
  ruleIndex: Type.Integer(),
  rule: MqttRuleSchema,
  /** The rule's topic with `${username}` / `${clientid}` expanded for this user. */
  expandedTopic: Type.String(),
});

export const ExplanationSchema = Type.Object({
  /**
   * `partial` (subscribe only): some topics of the filter are allowed, others not. Brokers that check every
   * delivery (embedded, Mosquitto, go-auth) accept the subscription and filter the deliveries; EMQX and
   * VerneMQ refuse it.
   */
  decision: Type.Enum(['allow', 'deny', 'partial'], { type: 'string' }),
  reason: Type.Enum(DECISION_REASONS, { type: 'string' }),
  /** The deciding rule (absent when no rule decided). */
  rule: Type.Optional(AccessRuleSchema),
  role: Type.Optional(Type.String()),
  ruleIndex: Type.Optional(Type.Integer()),
  /** The rule's topic with `${username}` / `${clientid}` expanded for this user. */
  expandedTopic: Type.Optional(Type.String()),
  placeholders: Type.Optional(Type.Record(Type.String(), Type.String())),
  /** For a partial grant: the deny rules whose topics are never delivered (at most 20, in evaluation order). */
  carveOuts: Type.Optional(Type.Array(CarveOutSchema)),
  /** HTTP: the rule's path with `${username}` expanded for this user. */
  expandedPath: Type.Optional(Type.String()),
  /** HTTP: the request path as the matcher saw it (docs/access-rules.md#what-the-matcher-sees). */
  canonicalPath: Type.Optional(Type.String()),
  /** HTTP, reason `invalid_path`: why the path was refused. */
  pathError: Type.Optional(Type.String()),
});
export type Explanation = Static<typeof ExplanationSchema>;

export const EffectiveAccessQuery = Type.Object(
  { clientid: Type.Optional(Type.String({ maxLength: 65535 })) },
  { additionalProperties: false },
);

export const EffectiveRuleSchema = Type.Object({
  role: Type.String(),
  ruleIndex: Type.Integer(),
  permission: Type.Enum(['allow', 'deny'], { type: 'string' }),
  action: Type.Enum(['publish', 'subscribe', 'all'], { type: 'string' }),
  /** Placeholders expanded for this user; `${clientid}` stays symbolic when no client id was given. */
  topic: Type.String(),
  /** The topic as stored in the role. */
  ruleTopic: Type.String(),
  qos: Type.Optional(Type.Array(QosSchema)),
  retain: Type.Optional(Type.Boolean()),
  /** False when a placeholder cannot be expanded for this identity (e.g. a client id with `/`): never matches. */
  applicable: Type.Boolean(),
  /**
   * Allow rules for subscribing only: the earlier deny rules meeting this rule's topic. A subscription to the
   * rule's filter is then partially granted (deliveries filtered) rather than refused.
   */
  carveOuts: Type.Optional(
    Type.Array(Type.Object({ role: Type.String(), ruleIndex: Type.Integer(), topic: Type.String() })),
  ),
});

/** One HTTP rule of a user's merged list (forward-auth). */
export const EffectiveHttpRuleSchema = Type.Object({
  role: Type.String(),
  ruleIndex: Type.Integer(),
  permission: Type.Enum(['allow', 'deny'], { type: 'string' }),
  /** Omitted = every method. */
  methods: Type.Optional(Type.Array(Type.String())),
  /** `${username}` expanded for this user. */
  path: Type.String(),
  /** The path as stored in the role. */
  rulePath: Type.String(),
});

export const EffectiveAccessSchema = Type.Object({
  username: Type.String(),
  active: Type.Boolean(),
  clientid: Type.Union([Type.String(), Type.Null()]),
  roles: Type.Array(Type.Object({ name: Type.String(), version: Type.Integer() })),
  /** Every MQTT rule in evaluation order: first match wins, no match denies. */
  rules: Type.Array(EffectiveRuleSchema),
  /** Every HTTP rule in evaluation order (forward-auth): first match wins, no match denies. */
  httpRules: Type.Array(EffectiveHttpRuleSchema),
});
export type EffectiveAccess = Static<typeof EffectiveAccessSchema>;
