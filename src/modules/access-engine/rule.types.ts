/**
 * Public types of the MQTT access-rule engine (docs/access-rules.md). Rules are stored and exchanged in this
 * shape; the engine compiles ordered role lists of them and answers one {@link AccessRequest} at a time.
 */

export type Permission = 'allow' | 'deny';

/** What a stored rule is about. `all` = publish, subscribe and receive. */
export type RuleAction = 'publish' | 'subscribe' | 'all';

/** QoS levels a rule can be restricted to. */
export type QoS = 0 | 1 | 2;

/**
 * One stored rule. `topic` is an MQTT topic filter (`+`, `#`) that may contain the placeholders
 * `${username}` and `${clientid}`, also inside a level (`dt/${username}-x/up`).
 */
export interface AccessRule {
  permission: Permission;
  action: RuleAction;
  topic: string;
  /** The rule applies only to these QoS levels; omitted = all levels, empty = never applies. */
  qos?: readonly QoS[];
  /** The rule applies only to publishes/deliveries with this retain flag; omitted = both. */
  retain?: boolean;
}

/** An access role: a named, ordered rule list. A user holds an ordered list of roles. */
export interface RoleRules {
  name: string;
  rules: readonly AccessRule[];
}

/** Who asks; the values placeholders expand to. */
export interface Identity {
  username: string;
  clientid?: string | null;
}

/**
 * What is asked. `receive` is the delivery of a published message to a subscriber (aedes
 * `authorizeForward`, Mosquitto `publishClientReceive`, mosquitto-go-auth `acc` 1); its topic is a name.
 */
export type RequestAction = 'publish' | 'subscribe' | 'receive';

export interface AccessRequest {
  action: RequestAction;
  /** A topic name for publish/receive; a topic filter (optionally `$share/<group>/<filter>`) for subscribe. */
  topic: string;
  /** Defaults to 0, as in MQTT. */
  qos?: QoS;
  /** Defaults to false. Ignored for subscribe. */
  retain?: boolean;
}

/**
 * Why a decision was taken:
 * - `rule`: the rule in `role`/`ruleIndex` decided (allow or deny);
 * - `no_match`: no rule applies (default deny);
 * - `partial`: subscribe only — the filter is partially granted: `rule` allows some of the topics it matches,
 *   others are denied (a carve-out such as `deny a/secret` before `allow a/#`, subscription `a/#`; or rule
 *   `a/+`, subscription `a/#`). `allowed` is false, so that a caller that only reads `allowed` fails closed;
 *   enforcement points that check every delivery accept it (`acceptsSubscription`);
 * - `invalid_topic`: the topic is not a valid name (publish/receive) or filter (subscribe);
 * - `sys_publish`: publishing to `$SYS` is always denied;
 * - `invalid_request`: unknown action or QoS, or a topic that is no string (callers outside the type system).
 */
export type DecisionReason =
  | 'rule'
  | 'no_match'
  | 'partial'
  | 'invalid_topic'
  | 'sys_publish'
  | 'invalid_request';

/** The answer to one request. Decisions returned by `decide` are shared and frozen: never mutate them. */
export interface AccessDecision {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  /** Name of the role holding `rule`. */
  readonly role?: string;
  /** Index of `rule` within its role. */
  readonly ruleIndex?: number;
  readonly rule?: AccessRule;
  /** `rule.topic` after placeholder expansion (only from `explain`). */
  readonly expandedTopic?: string;
  /** The placeholder values `rule.topic` used (only from `explain`). */
  readonly placeholders?: Readonly<Record<string, string>>;
}
