/**
 * Compiles an ordered role list into a topic trie. A compiled set depends only on the rules, never on a user:
 * placeholders stay symbolic (template edges expanded per query), so every user holding the same role list
 * shares one compiled set.
 */

import { parsePlaceholders, placeholderBit, type TemplatePart } from './placeholder.js';
import { type AccessDecision, type AccessRule, isHttpRule, type QoS, type RoleRules } from './rule.types.js';
import { validateRuleTopic } from './topic.js';

/** Marks "no rule" in rule chains and "no rule yet" in searches; above every rule position. */
export const END = 0x7fff_ffff;

/** Index of a request action in applicability masks. */
export const PUBLISH = 0;
export const SUBSCRIBE = 1;
export const RECEIVE = 2;

/**
 * Bit of one request kind in a rule's applicability mask: 3 actions × 3 QoS × 2 retain flags = 18 bits, so
 * "does this rule apply?" is a single shift on the hot path.
 */
export function requestBit(action: number, qos: QoS, retain: boolean): number {
  return action * 6 + qos * 2 + (retain ? 1 : 0);
}

/** Set in a rule's flags when it allows (clear = deny). */
export const ALLOW_FLAG = 1 << 24;

/** How a rule decided: by itself (reason `rule`), or as a partial grant of a subscription (reason `partial`). */
export const DECISIVE = 0;
export const PARTIAL = 1;

/** Layout of the per-rule record in {@link CompiledRuleSet.meta}. */
export const META_FLAGS = 0;
export const META_NEXT = 1;
const META_ROLE = 2;
const META_INDEX = 3;
export const META_STRIDE = 4;

/** A trie edge for a level holding placeholders; it matches the level once they are expanded. */
export interface TemplateEdge {
  readonly parts: readonly TemplatePart[];
  /** Placeholder bits the edge needs expandable. */
  readonly needs: number;
  readonly node: TrieNode;
}

/**
 * A trie node for one level position. Rules attach where their filter ends (`endHead`) or where it
 * continues with `#` (`hashHead`); each is the head of an ascending chain of rule positions linked through
 * {@link META_NEXT}, so nodes carry no arrays.
 */
export class TrieNode {
  /** The level of a literal child (null for the root, `+` and placeholder nodes). */
  readonly label: string | null;
  /**
   * Literal children: the only one itself (no Map on the chain nodes most tries consist of), a Map by
   * label once there are two or more.
   */
  children: TrieNode | Map<string, TrieNode> | null = null;
  plus: TrieNode | null = null;
  templates: TemplateEdge[] | null = null;
  endHead = END;
  hashHead = END;
  /** Smallest rule position in this subtree: a search already holding a smaller one skips it. */
  min = END;

  constructor(label: string | null = null) {
    this.label = label;
  }

  /** The literal child for the level `text[start, end)`, or null; slices the level only at Map nodes. */
  literal(text: string, start: number, end: number): TrieNode | null {
    const children = this.children;
    if (children === null) return null;
    if (children instanceof TrieNode) {
      const label = children.label as string;
      return label.length === end - start && text.startsWith(label, start) ? children : null;
    }
    return children.get(text.slice(start, end)) ?? null;
  }
}

/** A rule compileRoles skipped because it is malformed (it never matches). */
export interface InvalidRule {
  readonly role: string;
  readonly ruleIndex: number;
  readonly error: string;
}

const NO_INVALID_RULES: readonly InvalidRule[] = Object.freeze([]);

/**
 * An ordered role list compiled for {@link decide}. Immutable once built (apart from lazily cached decision
 * objects); build it with {@link compileRoles}.
 */
export class CompiledRuleSet {
  /** The valid rules in evaluation order; a rule's position here is its priority (lower wins). */
  readonly rules: readonly AccessRule[];
  /** Per position, {@link META_STRIDE} integers: flags, next in chain, role index, index within role. */
  readonly meta: Int32Array;
  readonly root: TrieNode;
  readonly roleNames: readonly string[];
  readonly invalidRules: readonly InvalidRule[];
  /** Frozen decisions per position (2p: decided by the rule, 2p+1: partial grant), built on first use. */
  readonly #decisions: (AccessDecision | undefined)[] = [];

  constructor(
    rules: readonly AccessRule[],
    meta: Int32Array,
    root: TrieNode,
    roleNames: readonly string[],
    invalidRules: readonly InvalidRule[],
  ) {
    this.rules = rules;
    this.meta = meta;
    this.root = root;
    this.roleNames = roleNames;
    this.invalidRules = invalidRules;
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  /**
   * The shared decision for the rule at `position`: taken by it ({@link DECISIVE}: reason `rule`), or for an
   * allow rule that grants only part of a subscription filter, {@link PARTIAL}.
   */
  decisionFor(position: number, kind: typeof DECISIVE | typeof PARTIAL): AccessDecision {
    const slot = position * 2 + kind;
    const cached = this.#decisions[slot];
    if (cached !== undefined) return cached;
    const rule = this.rules[position] as AccessRule;
    const base = position * META_STRIDE;
    const decision: AccessDecision = Object.freeze({
      allowed: kind === DECISIVE && rule.permission === 'allow',
      reason: kind === DECISIVE ? 'rule' : 'partial',
      role: this.roleNames[this.meta[base + META_ROLE] as number] as string,
      ruleIndex: this.meta[base + META_INDEX] as number,
      rule,
    });
    this.#decisions[slot] = decision;
    return decision;
  }
}

const ACTIONS_OF_RULE: Readonly<Record<string, readonly number[]>> = {
  publish: [PUBLISH],
  subscribe: [SUBSCRIBE, RECEIVE],
  all: [PUBLISH, SUBSCRIBE, RECEIVE],
};
const QOS_LEVELS: readonly QoS[] = [0, 1, 2];

/**
 * Checks a stored rule: permission, action, topic ({@link validateRuleTopic}), QoS list of 0/1/2, boolean
 * retain. Tolerates values from outside the type system (JSON, database rows).
 * @returns an error message, or null when valid.
 */
export function validateRule(rule: AccessRule): string | null {
  if (rule.permission !== 'allow' && rule.permission !== 'deny') return 'permission must be allow or deny';
  if (!Object.hasOwn(ACTIONS_OF_RULE, rule.action)) return 'action must be publish, subscribe or all';
  if (typeof rule.topic !== 'string') return 'topic must be a string';
  const topicError = validateRuleTopic(rule.topic);
  if (topicError !== null) return `topic ${topicError}`;
  if (rule.qos !== undefined && !(Array.isArray(rule.qos) && rule.qos.every((q) => QOS_LEVELS.includes(q)))) {
    return 'qos must be a list of 0, 1, 2';
  }
  if (rule.retain !== undefined && typeof rule.retain !== 'boolean') return 'retain must be a boolean';
  return null;
}

/**
 * The request kinds a rule applies to. Retain restricts publishes and deliveries; a subscription carries no
 * retain flag, so a subscribe rule with `retain` set still governs the subscription itself.
 */
function applicabilityMask(rule: AccessRule): number {
  let mask = 0;
  for (const action of ACTIONS_OF_RULE[rule.action] ?? []) {
    for (const qos of rule.qos ?? QOS_LEVELS) {
      for (const retain of [false, true]) {
        if (action !== SUBSCRIBE && rule.retain !== undefined && rule.retain !== retain) continue;
        mask |= 1 << requestBit(action, qos, retain);
      }
    }
  }
  return mask;
}

function addLiteral(node: TrieNode, level: string): TrieNode {
  const existing = node.literal(level, 0, level.length);
  if (existing !== null) return existing;
  const created = new TrieNode(level);
  const children = node.children;
  if (children === null) node.children = created;
  else if (children instanceof TrieNode)
    node.children = new Map([
      [children.label as string, children],
      [level, created],
    ]);
  else children.set(level, created);
  return created;
}

function addTemplate(node: TrieNode, parts: readonly TemplatePart[]): TrieNode {
  node.templates ??= [];
  const existing = node.templates.find(
    (edge) => edge.parts.length === parts.length && edge.parts.every((part, i) => part === parts[i]),
  );
  if (existing !== undefined) return existing.node;
  let needs = 0;
  for (const part of parts) if (typeof part !== 'string') needs |= placeholderBit(part);
  const edge: TemplateEdge = { parts, needs, node: new TrieNode() };
  node.templates.push(edge);
  return edge.node;
}

function childFor(node: TrieNode, level: string): TrieNode {
  if (level === '+') {
    node.plus ??= new TrieNode();
    return node.plus;
  }
  const parts = parsePlaceholders(level);
  return parts === null ? addLiteral(node, level) : addTemplate(node, parts);
}

/**
 * Compiles an ordered role list: the user's MQTT rules are the rules of its roles in order, first match wins
 * (HTTP rules are skipped; their indices within the role stay as stored).
 * Cost is linear in the total rule-topic length and independent of how many users share the list. Malformed
 * rules never match and are reported in `invalidRules`; this function never throws.
 */
export function compileRoles(roles: readonly RoleRules[]): CompiledRuleSet {
  const rules: AccessRule[] = [];
  const origins: number[] = [];
  const invalidRules: InvalidRule[] = [];
  roles.forEach((role, roleIndex) => {
    role.rules.forEach((rule, ruleIndex) => {
      // HTTP rules are decided by the HTTP matcher (http-match.ts) and never by MQTT requests.
      if (isHttpRule(rule)) return;
      const error = validateRule(rule);
      if (error === null) {
        rules.push(rule);
        origins.push(roleIndex, ruleIndex);
      } else {
        invalidRules.push({ role: role.name, ruleIndex, error });
      }
    });
  });

  const meta = new Int32Array(rules.length * META_STRIDE);
  const root = new TrieNode();
  // Inserting from the last rule to the first and prepending to chains keeps every chain ascending, and
  // the last write to a node's `min` is the smallest position below it.
  for (let position = rules.length - 1; position >= 0; position--) {
    const rule = rules[position] as AccessRule;
    const base = position * META_STRIDE;
    meta[base + META_FLAGS] = applicabilityMask(rule) | (rule.permission === 'allow' ? ALLOW_FLAG : 0);
    meta[base + META_ROLE] = origins[position * 2] as number;
    meta[base + META_INDEX] = origins[position * 2 + 1] as number;
    let node = root;
    node.min = position;
    let attachedToHash = false;
    for (const level of rule.topic.split('/')) {
      if (level === '#') {
        meta[base + META_NEXT] = node.hashHead;
        node.hashHead = position;
        attachedToHash = true;
        break;
      }
      node = childFor(node, level);
      node.min = position;
    }
    if (!attachedToHash) {
      meta[base + META_NEXT] = node.endHead;
      node.endHead = position;
    }
  }
  const roleNames = roles.map((role) => role.name);
  return new CompiledRuleSet(
    rules,
    meta,
    root,
    roleNames,
    invalidRules.length > 0 ? invalidRules : NO_INVALID_RULES,
  );
}
