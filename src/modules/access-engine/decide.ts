/**
 * The hot path: one access request against a compiled rule set. One trie walk serves all three actions — a
 * topic name is a filter without wildcards — and looks for the smallest rule position that decides.
 */

import {
  ALLOW_FLAG,
  type CompiledRuleSet,
  DECISIVE,
  END,
  META_FLAGS,
  META_NEXT,
  META_STRIDE,
  PARTIAL,
  PUBLISH,
  RECEIVE,
  requestBit,
  SUBSCRIBE,
  type TemplateEdge,
  TrieNode,
} from './compile.js';
import { expandableMask, expandRuleTopic, placeholderValue, type TemplatePart } from './placeholder.js';
import type { AccessDecision, AccessRequest, AccessRule, Identity } from './rule.types.js';
import {
  filterCovers,
  filterIntersection,
  isDollarLevel,
  isValidTopicName,
  parseSubscription,
} from './topic.js';

function constant(allowed: boolean, reason: AccessDecision['reason']): AccessDecision {
  return Object.freeze({ allowed, reason });
}
const NO_MATCH = constant(false, 'no_match');
const INVALID_TOPIC = constant(false, 'invalid_topic');
const SYS_PUBLISH = constant(false, 'sys_publish');
const INVALID_REQUEST = constant(false, 'invalid_request');

const HASH = 0x23;
const DOLLAR = 0x24;
const PLUS = 0x2b;

/** How the first level of the asked topic restricts the root of the trie (MQTT-4.7.2-1). */
const GUARD_NONE = 0;
/** The topic starts with a `$` level: root rules starting with `+` or `#` cannot match it. */
const GUARD_DOLLAR_TOPIC = 1;
/** The filter starts with `+` or `#`, so it matches no `$` name: root rules on a `$` level cannot meet it. */
const GUARD_WILDCARD_TOPIC = 2;

/**
 * Per-query state, allocated once per decision. The walk reads the topic in place — a level is the range
 * from an offset to the next '/' — so no level strings are built; it records its findings in `best` and
 * `partial`.
 */
class Query {
  /** Smallest position that decides: a deny meeting the topic, or an allow covering it. */
  best = END;
  /** Whether the rule at `best` matches every name the topic stands for (always, for a name). */
  bestCovers = false;
  /** Smallest position of an allow rule that meets a subscription filter without covering it. */
  partial = END;
  /**
   * When set, the walk decides nothing and lists every applicable rule meeting the topic instead (with `best`
   * left at END, nothing is pruned).
   */
  meeting: number[] | null = null;
  /** Placeholder bits the identity can expand, computed when the first placeholder level is met. */
  #expandable = -1;

  constructor(
    readonly topic: string,
    /** Offset just past the first level. */
    readonly firstEnd: number,
    /** PUBLISH, SUBSCRIBE or RECEIVE. */
    readonly action: number,
    readonly bit: number,
    readonly guard: number,
    readonly identity: Identity,
  ) {}

  canExpand(needs: number): boolean {
    if (this.#expandable < 0) this.#expandable = expandableMask(this.identity);
    return (needs & this.#expandable) === needs;
  }
}

/** Offset of the '/' ending the level that starts at `start`, or the topic length. */
function levelEnd(topic: string, start: number): number {
  const slash = topic.indexOf('/', start);
  return slash === -1 ? topic.length : slash;
}

/**
 * Scans an ascending chain of rules that all meet the topic; `covering` says whether they also match every
 * name the topic stands for (always true for a name).
 */
function scan(meta: Int32Array, head: number, covering: boolean, q: Query): void {
  for (let p = head; p < q.best; p = meta[p * META_STRIDE + META_NEXT] as number) {
    const flags = meta[p * META_STRIDE + META_FLAGS] as number;
    if (((flags >>> q.bit) & 1) === 0) continue;
    if (q.meeting !== null) {
      q.meeting.push(p);
      continue;
    }
    if (covering || (flags & ALLOW_FLAG) === 0) {
      q.best = p;
      q.bestCovers = covering;
      return;
    }
    if (p < q.partial) q.partial = p;
  }
}

/**
 * The template with placeholders expanded equals the level `topic[start, end)`, compared in place. Only
 * emptiness of a value needs checking here: a value with '/' runs past the level end, and a level of a
 * valid name or filter holds no '+', '#' or NUL to match one.
 */
function templateMatches(edge: TemplateEdge, topic: string, start: number, end: number, q: Query): boolean {
  let offset = start;
  for (const part of edge.parts) {
    let text: string;
    if (typeof part === 'string') {
      text = part;
    } else {
      text = placeholderValue(q.identity, part);
      if (text.length === 0) return false;
    }
    if (offset + text.length > end || !topic.startsWith(text, offset)) return false;
    offset += text.length;
  }
  return offset === end;
}

/** Whether the template's expansion starts with `$` (expandability already checked). */
function templateIsDollar(edge: TemplateEdge, q: Query): boolean {
  const first = edge.parts[0] as TemplatePart;
  return isDollarLevel(typeof first === 'string' ? first : placeholderValue(q.identity, first));
}

function walkLiteral(
  set: CompiledRuleSet,
  child: TrieNode,
  start: number,
  skipDollar: boolean,
  q: Query,
): void {
  if (!(skipDollar && isDollarLevel(child.label as string))) walk(set, child, start, false, q);
}

/**
 * Visits every child of `node` for a wildcard level of the topic, continuing at offset `start`. Only
 * `+` children keep covering (`plusCovering`); literal and placeholder levels match one value each.
 */
function walkChildren(
  set: CompiledRuleSet,
  node: TrieNode,
  start: number,
  plusCovering: boolean,
  q: Query,
): void {
  const skipDollar = node === set.root && q.guard === GUARD_WILDCARD_TOPIC;
  const children = node.children;
  if (children instanceof TrieNode) {
    walkLiteral(set, children, start, skipDollar, q);
  } else if (children !== null) {
    for (const child of children.values()) walkLiteral(set, child, start, skipDollar, q);
  }
  if (node.plus !== null) walk(set, node.plus, start, plusCovering, q);
  if (node.templates !== null) {
    for (const edge of node.templates) {
      if (q.canExpand(edge.needs) && !(skipDollar && templateIsDollar(edge, q)))
        walk(set, edge.node, start, false, q);
    }
  }
}

/**
 * Whether the name reached at `node`, with the topic's second level starting at `start`, is the single
 * empty level: the rule `+` and the filter `/#` (or the rule `/#` and the filter `+`) share only that level
 * sequence, and an empty string is no MQTT name, so they do not meet.
 */
function isEmptyName(set: CompiledRuleSet, node: TrieNode, start: number, q: Query): boolean {
  if (start !== q.firstEnd + 1) return false;
  const emptyChild = set.root.literal('', 0, 0);
  if (q.firstEnd === 0) return node === set.root.plus || node === emptyChild;
  return q.firstEnd === 1 && q.topic.charCodeAt(0) === PLUS && node === emptyChild;
}

/**
 * Walks the trie at `node` against the topic from offset `start` on. `covering` is true while every rule
 * level so far matches all values of the topic level (a literal against the same literal, `+` against
 * anything).
 */
function walk(set: CompiledRuleSet, node: TrieNode, start: number, covering: boolean, q: Query): void {
  if (node.min >= q.best) return;
  const meta = set.meta;
  const topic = q.topic;
  if (start > topic.length) {
    // past the last level
    if (isEmptyName(set, node, start, q)) return;
    scan(meta, node.endHead, covering, q);
    // a rule 'x/#' also matches the parent 'x'
    scan(meta, node.hashHead, covering, q);
    return;
  }
  const atRoot = node === set.root;
  if (!(atRoot && q.guard === GUARD_DOLLAR_TOPIC)) scan(meta, node.hashHead, covering, q);
  const end = levelEnd(topic, start);
  if (end - start === 1) {
    const c = topic.charCodeAt(start);
    if (c === HASH) {
      // the filter matches this parent level and everything below: all of it meets, none is covered —
      // unless the parent is empty (`#`, `/#`): names are never empty, so there a rule `+/#` covers it
      const noParent = atRoot || isEmptyName(set, node, start, q);
      if (!noParent) scan(meta, node.endHead, false, q);
      walkChildren(set, node, start, noParent && covering, q);
      return;
    }
    if (c === PLUS) {
      walkChildren(set, node, end + 1, covering, q);
      return;
    }
  }
  const child = node.literal(topic, start, end);
  if (child !== null) walk(set, child, end + 1, covering, q);
  if (node.plus !== null && !(atRoot && q.guard === GUARD_DOLLAR_TOPIC))
    walk(set, node.plus, end + 1, covering, q);
  if (node.templates !== null) {
    for (const edge of node.templates) {
      if (templateMatches(edge, topic, start, end, q)) walk(set, edge.node, end + 1, covering, q);
    }
  }
}

function isSysTopic(name: string): boolean {
  return name.startsWith('$SYS') && (name.length === 4 || name.charCodeAt(4) === 0x2f);
}

/** Every applicable rule meeting the query's topic, by position (a second walk that prunes nothing). */
function meetingRules(set: CompiledRuleSet, q: Query): number[] {
  q.best = END;
  q.meeting = [];
  walk(set, set.root, 0, true, q);
  return q.meeting.sort((x, y) => x - y);
}

function isAllow(set: CompiledRuleSet, position: number): boolean {
  return ((set.meta[position * META_STRIDE + META_FLAGS] as number) & ALLOW_FLAG) !== 0;
}

/** A rule's topic with the identity's placeholders filled in (the walk met the rule, so they expand). */
function expandedTopic(set: CompiledRuleSet, position: number, identity: Identity): string {
  return expandRuleTopic((set.rules[position] as AccessRule).topic, identity)?.topic ?? '';
}

/**
 * A subscription filter that a deny rule meets (without covering it) before any allow rule covers it: the
 * first allow rule that grants some part of the filter no earlier deny rule covers makes it a partial grant;
 * without one it is refused by the first deny rule. The rules meeting the filter are compared as filters:
 * subscriptions are rare next to deliveries, and the usual carve-out ("deny x", then "allow #") has a handful.
 */
function decideCarvedSubscription(set: CompiledRuleSet, q: Query): AccessDecision {
  const firstDeny = q.best;
  const denies: string[] = [];
  for (const position of meetingRules(set, q)) {
    const topic = expandedTopic(set, position, q.identity);
    if (!isAllow(set, position)) {
      denies.push(topic);
      continue;
    }
    const granted = filterIntersection(topic, q.topic);
    if (granted !== null && !denies.some((deny) => filterCovers(deny, granted)))
      return set.decisionFor(position, PARTIAL);
  }
  return set.decisionFor(firstDeny, DECISIVE);
}

/** The request checked and prepared for a walk, or the decision when it needs none. */
function prepare(set: CompiledRuleSet, identity: Identity, request: AccessRequest): Query | AccessDecision {
  const qos = request.qos ?? 0;
  let topic = request.topic;
  if ((qos !== 0 && qos !== 1 && qos !== 2) || typeof topic !== 'string') return INVALID_REQUEST;
  let action: number;
  if (request.action === 'publish' || request.action === 'receive') {
    if (!isValidTopicName(topic)) return INVALID_TOPIC;
    if (request.action === 'publish' && isSysTopic(topic)) return SYS_PUBLISH;
    action = request.action === 'publish' ? PUBLISH : RECEIVE;
  } else if (request.action === 'subscribe') {
    const parsed = parseSubscription(topic);
    if (!parsed.ok) return INVALID_TOPIC;
    topic = parsed.filter;
    action = SUBSCRIBE;
  } else {
    return INVALID_REQUEST;
  }
  if (set.ruleCount === 0) return NO_MATCH;

  const firstEnd = levelEnd(topic, 0);
  const c = topic.charCodeAt(0);
  const guard =
    firstEnd === 1 && (c === PLUS || c === HASH)
      ? GUARD_WILDCARD_TOPIC
      : c === DOLLAR
        ? GUARD_DOLLAR_TOPIC
        : GUARD_NONE;
  const retain = action !== SUBSCRIBE && request.retain === true;
  return new Query(topic, firstEnd, action, requestBit(action, qos, retain), guard, identity);
}

/**
 * Decides one request: first matching rule wins, no match denies.
 * - publish: the topic must be a valid name outside `$SYS`; a rule matches when its filter matches the name
 *   and its action, QoS list and retain flag fit;
 * - receive (delivery to a subscriber): like publish, against subscribe/all rules;
 * - subscribe: `$share/<group>/` is stripped; the filter is allowed (fully granted) when an allow rule covers
 *   all of it before any deny rule meets it; refused when no name it matches is allowed (as far as single
 *   rules tell); otherwise it is partially granted: reason `partial`, `allowed` false, and the enforcement
 *   points that check every delivery accept it ({@link acceptsSubscription}).
 *
 * Reads the topic in place (no split) and allocates one small query record; returns shared frozen
 * decisions. Never throws.
 */
export function decide(set: CompiledRuleSet, identity: Identity, request: AccessRequest): AccessDecision {
  const q = prepare(set, identity, request);
  if (!(q instanceof Query)) return q;
  walk(set, set.root, 0, true, q);
  if (q.partial < q.best) {
    // an allow rule meets the filter before any deny does: some of its names are allowed, at least
    return q.best !== END && isAllow(set, q.best)
      ? set.decisionFor(q.best, DECISIVE)
      : set.decisionFor(q.partial, PARTIAL);
  }
  if (q.best === END) return NO_MATCH;
  if (q.action !== SUBSCRIBE || q.bestCovers) return set.decisionFor(q.best, DECISIVE);
  return decideCarvedSubscription(set, q);
}

/** A deny rule that keeps part of a partially granted subscription from being delivered. */
export interface CarveOut {
  readonly role: string;
  readonly ruleIndex: number;
  readonly rule: AccessRule;
  /** `rule.topic` after placeholder expansion. */
  readonly expandedTopic: string;
}

/** How many carve-outs {@link explain} lists at most. */
export const MAX_CARVE_OUTS = 20;

/**
 * The deny rules that take topics out of a partially granted subscription: those meeting the filter on a part
 * no earlier allow rule covers (a deny shadowed by an earlier allow changes nothing).
 */
function carveOuts(set: CompiledRuleSet, q: Query): CarveOut[] {
  const allows: string[] = [];
  const found: CarveOut[] = [];
  for (const position of meetingRules(set, q)) {
    const topic = expandedTopic(set, position, q.identity);
    if (isAllow(set, position)) {
      allows.push(topic);
      continue;
    }
    const denied = filterIntersection(topic, q.topic);
    if (denied === null || allows.some((allow) => filterCovers(allow, denied))) continue;
    const { role, ruleIndex, rule } = set.decisionFor(position, DECISIVE);
    found.push({
      role: role as string,
      ruleIndex: ruleIndex as number,
      rule: rule as AccessRule,
      expandedTopic: topic,
    });
    if (found.length === MAX_CARVE_OUTS) break;
  }
  return found;
}

/**
 * Whether an enforcement point lets a subscription through: a full grant always; a partial grant only where
 * every delivery is checked on its own (the embedded broker, Mosquitto, go-auth), so that the carved-out
 * topics never reach the subscriber. Brokers that check only the subscription (EMQX, VerneMQ) refuse it.
 */
export function acceptsSubscription(
  decision: { allowed: boolean; reason: string },
  checksDeliveries: boolean,
): boolean {
  return decision.allowed || (checksDeliveries && decision.reason === 'partial');
}

/**
 * {@link decide} plus the details an operator needs: the deciding rule's topic after placeholder expansion,
 * the placeholder values used and, for a partially granted subscription, the carve-outs (at most
 * {@link MAX_CARVE_OUTS}). Same `allowed`, `reason`, `role` and `ruleIndex` as `decide`.
 */
export function explain(
  set: CompiledRuleSet,
  identity: Identity,
  request: AccessRequest,
): AccessDecision & { readonly carveOuts?: readonly CarveOut[] } {
  const decision = decide(set, identity, request);
  if (decision.rule === undefined) return decision;
  const expanded = expandRuleTopic(decision.rule.topic, identity);
  if (expanded === null) return decision;
  const details = { ...decision, expandedTopic: expanded.topic, placeholders: expanded.placeholders };
  const q = decision.reason === 'partial' ? prepare(set, identity, request) : null;
  return q instanceof Query ? { ...details, carveOuts: carveOuts(set, q) } : details;
}
