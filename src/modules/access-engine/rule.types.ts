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
  /** MQTT rules and HTTP rules ({@link HttpRule}); each engine reads only its own kind. */
  rules: readonly RoleRule[];
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

/** The methods an HTTP rule can name (docs/access-rules.md#http-rules). */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/**
 * One stored HTTP rule, decided for requests a reverse proxy forwards (forward-auth). `path` is a pattern of
 * `/`-separated segments: `*` matches exactly one segment, `**` (only as the last segment) any rest, zero
 * segments included; `${username}` may stand in a segment or inside one. MQTT requests never match it.
 */
export interface HttpRule {
  permission: Permission;
  action: 'http';
  /** The rule applies only to these methods (from {@link HTTP_METHODS}); omitted = every method. */
  methods?: readonly string[];
  path: string;
}

/** Any rule an access role can hold: MQTT rules ({@link AccessRule}) and HTTP rules. */
export type RoleRule = AccessRule | HttpRule;

/** Whether a stored rule is an HTTP rule (every other rule is about MQTT). */
export function isHttpRule(rule: RoleRule): rule is HttpRule {
  return rule.action === 'http';
}

/** One HTTP request as the proxy forwarded it: the method and the request target, raw (query included). */
export interface HttpRequest {
  method: string;
  /** The raw request target (`/a/b%20c?x=1`); canonicalised before matching. */
  path: string;
}

/**
 * Why an HTTP decision was taken: `rule` (the named rule allowed or denied), `no_match` (denied),
 * `invalid_path` (the path was refused by canonicalisation: `..`/`.` segments, an encoded slash, bad
 * percent-encoding …: denied) or `invalid_request` (no valid method token: denied).
 */
export type HttpDecisionReason = 'rule' | 'no_match' | 'invalid_path' | 'invalid_request';

/** The answer to one HTTP request. */
export interface HttpDecision {
  readonly allowed: boolean;
  readonly reason: HttpDecisionReason;
  readonly role?: string;
  readonly ruleIndex?: number;
  readonly rule?: HttpRule;
  /** The path as the matcher saw it (absent when refused by canonicalisation). */
  readonly canonicalPath?: string;
  /** Why canonicalisation refused the path (reason `invalid_path`). */
  readonly pathError?: string;
}
