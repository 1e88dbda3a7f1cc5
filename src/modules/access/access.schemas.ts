import { type Static, Type } from 'typebox';
import { AccessRuleSchema } from '../access-roles/access-roles.schemas.js';

const QosSchema = Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)]);

/** Why a decision was taken: the engine's reasons, plus `user_inactive` for a deactivated user. */
export const DECISION_REASONS = [
  'rule',
  'no_match',
  'not_covered',
  'invalid_topic',
  'sys_publish',
  'invalid_request',
  'user_inactive',
] as const;

export const ExplainBody = Type.Object(
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
export type ExplainInput = Static<typeof ExplainBody>;

export const ExplanationSchema = Type.Object({
  decision: Type.Enum(['allow', 'deny'], { type: 'string' }),
  reason: Type.Enum(DECISION_REASONS, { type: 'string' }),
  /** The deciding rule (absent when no rule decided). */
  rule: Type.Optional(AccessRuleSchema),
  role: Type.Optional(Type.String()),
  ruleIndex: Type.Optional(Type.Integer()),
  /** The rule's topic with `${username}` / `${clientid}` expanded for this user. */
  expandedTopic: Type.Optional(Type.String()),
  placeholders: Type.Optional(Type.Record(Type.String(), Type.String())),
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
});

export const EffectiveAccessSchema = Type.Object({
  username: Type.String(),
  active: Type.Boolean(),
  clientid: Type.Union([Type.String(), Type.Null()]),
  roles: Type.Array(Type.Object({ name: Type.String(), version: Type.Integer() })),
  /** Every rule in evaluation order: first match wins, no match denies. */
  rules: Type.Array(EffectiveRuleSchema),
});
export type EffectiveAccess = Static<typeof EffectiveAccessSchema>;
