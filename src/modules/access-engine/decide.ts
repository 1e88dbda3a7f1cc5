/**
 * The hot path: one access request against a compiled rule set. One trie walk serves all three actions — a
 * topic name is a filter without wildcards — and looks for the smallest rule position that decides.
 */

import {
  ALLOW_FLAG,
  type CompiledRuleSet,
  END,
  META_FLAGS,
  META_NEXT,
  META_STRIDE,
  PUBLISH,
  RECEIVE,
  requestBit,
  SUBSCRIBE,
  type TemplateEdge,
  TrieNode,
} from './compile.js';
import { expandableMask, expandRuleTopic, placeholderValue, type TemplatePart } from './placeholder.js';
import type { AccessDecision, AccessRequest, Identity } from './rule.types.js';
import { isDollarLevel, isValidTopicName, parseSubscription } from './topic.js';

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
  /** Smallest position of an allow rule that meets a subscription filter without covering it. */
  partial = END;
  /** Placeholder bits the identity can expand, computed when the first placeholder level is met. */
  #expandable = -1;

  constructor(
    readonly topic: string,
    /** Offset just past the first level. */
    readonly firstEnd: number,
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
    if (covering || (flags & ALLOW_FLAG) === 0) {
      q.best = p;
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

/**
 * Decides one request: first matching rule wins, no match denies.
 * - publish: the topic must be a valid name outside `$SYS`; a rule matches when its filter matches the name
 *   and its action, QoS list and retain flag fit;
 * - receive (delivery to a subscriber): like publish, against subscribe/all rules;
 * - subscribe: `$share/<group>/` is stripped; an allow rule decides only if it covers the whole filter, a
 *   deny rule as soon as it meets part of it.
 *
 * Reads the topic in place (no split) and allocates one small query record; returns shared frozen
 * decisions. Never throws.
 */
export function decide(set: CompiledRuleSet, identity: Identity, request: AccessRequest): AccessDecision {
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
  const q = new Query(topic, firstEnd, requestBit(action, qos, retain), guard, identity);
  walk(set, set.root, 0, true, q);
  if (q.best !== END) return set.decisionFor(q.best, true);
  if (q.partial !== END) return set.decisionFor(q.partial, false);
  return NO_MATCH;
}

/**
 * {@link decide} plus the details an operator needs: the deciding rule's topic after placeholder expansion
 * and the placeholder values used. Same `allowed`, `reason`, `role` and `ruleIndex` as `decide`.
 */
export function explain(set: CompiledRuleSet, identity: Identity, request: AccessRequest): AccessDecision {
  const decision = decide(set, identity, request);
  if (decision.rule === undefined) return decision;
  const expanded = expandRuleTopic(decision.rule.topic, identity);
  if (expanded === null) return decision;
  return { ...decision, expandedTopic: expanded.topic, placeholders: expanded.placeholders };
}
