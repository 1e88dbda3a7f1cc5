/**
 * The MQTT access-rule engine (docs/access-rules.md): pure, no I/O, never throws. Compile a user's ordered
 * role list once with {@link compileRoles}, then ask {@link decide} per publish, subscription and delivery.
 */

export { CompiledRuleCache, type CompiledRuleCacheOptions } from './cache.js';
export { type CompiledRuleSet, compileRoles, type InvalidRule, validateRule } from './compile.js';
export { acceptsSubscription, type CarveOut, decide, explain, MAX_CARVE_OUTS } from './decide.js';
export {
  type CompiledHttpRules,
  compileHttpRules,
  decideHttp,
  expandHttpRulePath,
  validateHttpRule,
} from './http-match.js';
export {
  type CanonicalPath,
  canonicalizeRequestPath,
  MAX_REQUEST_PATH_LENGTH,
  MAX_RULE_PATH_LENGTH,
  MAX_RULE_PATH_SEGMENTS,
  validateHttpRulePath,
} from './http-path.js';
export { isExpandableValue } from './placeholder.js';
export type {
  AccessDecision,
  AccessRequest,
  AccessRule,
  DecisionReason,
  Identity,
  Permission,
  QoS,
  RequestAction,
  RoleRules,
  RuleAction,
} from './rule.types.js';
export {
  HTTP_METHODS,
  type HttpDecision,
  type HttpDecisionReason,
  type HttpMethod,
  type HttpRequest,
  type HttpRule,
  isHttpRule,
  type RoleRule,
} from './rule.types.js';
export {
  filterCovers,
  filterIntersection,
  filtersIntersect,
  MAX_TOPIC_BYTES,
  MAX_TOPIC_LEVELS,
  type ParsedSubscription,
  parseSubscription,
  topicMatches,
  validateRuleTopic,
  validateTopicFilter,
  validateTopicName,
} from './topic.js';
