/**
 * A deliberately naive reference for the access-rule semantics of docs/access-rules.md, written independently
 * of src/modules/access-engine for the differential test: a linear scan over every rule, one regular
 * expression per rule and query, placeholders expanded with String.replace, subscription coverage decided by
 * brute force over witness names. Slow on purpose (memoised only where the test's run time needs it); keep it
 * simple rather than fast, and never use it in production.
 */

import type {
  AccessRequest,
  AccessRule,
  DecisionReason,
  Identity,
  RoleRules,
} from '../../src/modules/access-engine/index.js';

export interface NaiveDecision {
  allowed: boolean;
  reason: DecisionReason;
  role?: string;
  ruleIndex?: number;
}

/**
 * Seeded PRNG (mulberry32) returning floats in [0, 1): the differential test and the benchmark share it so
 * their workloads are reproducible from a seed.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A level no generated rule or topic uses: stands for "any other value" in witness names. */
const FRESH = '~fresh~';

function isWellFormedText(text: string): boolean {
  return (
    text.length > 0 &&
    !text.includes('\u0000') &&
    Buffer.from(text, 'utf8').toString('utf8') === text && // lone surrogates do not survive the round trip
    Buffer.byteLength(text, 'utf8') <= 65535 &&
    text.split('/').length <= 100
  );
}

function isValidName(text: string): boolean {
  return isWellFormedText(text) && !/[+#]/.test(text);
}

function isValidFilter(text: string): boolean {
  if (!isWellFormedText(text)) return false;
  const levels = text.split('/');
  return levels.every(
    (level, i) => level === '+' || (level === '#' && i === levels.length - 1) || !/[+#]/.test(level),
  );
}

/** The filter access rules are checked on, or null when the subscription is invalid. */
function subscriptionFilter(text: string): string | null {
  if (!isValidFilter(text)) return null;
  if (!text.startsWith('$share/')) return text;
  const [, group, ...rest] = text.split('/');
  const inner = rest.join('/');
  if (group === undefined || group === '' || /[+#]/.test(group) || inner === '') return null;
  return inner;
}

// memoised per rule object only to keep the differential test fast
const ruleValidity = new WeakMap<AccessRule, boolean>();

function isValidRule(rule: AccessRule): boolean {
  let valid = ruleValidity.get(rule);
  if (valid === undefined) {
    valid = checkRule(rule);
    ruleValidity.set(rule, valid);
  }
  return valid;
}

function checkRule(rule: AccessRule): boolean {
  const topic = rule.topic;
  return (
    (rule.permission === 'allow' || rule.permission === 'deny') &&
    ['publish', 'subscribe', 'all'].includes(rule.action) &&
    typeof topic === 'string' &&
    isValidFilter(topic) &&
    !/\$\{(?!username\}|clientid\})/.test(topic) &&
    topic !== '$share' &&
    !topic.startsWith('$share/') &&
    (rule.qos === undefined ||
      (Array.isArray(rule.qos) && rule.qos.every((q) => q === 0 || q === 1 || q === 2))) &&
    (rule.retain === undefined || typeof rule.retain === 'boolean')
  );
}

function isUsableValue(value: string | null | undefined): value is string {
  return typeof value === 'string' && value !== '' && !/[/+#]/.test(value) && !value.includes('\u0000');
}

/** The rule topic with placeholders replaced, or null when one cannot be expanded. */
function expand(topic: string, identity: Identity): string | null {
  let ok = true;
  const result = topic.replace(/\$\{(username|clientid)\}/g, (_token, name: string) => {
    const value = name === 'username' ? identity.username : identity.clientid;
    if (!isUsableValue(value)) ok = false;
    return String(value);
  });
  return ok ? result : null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// memoised (and bounded) only to keep the differential test fast: still a pure filter → RegExp translation
const regExps = new Map<string, RegExp>();
const MAX_MEMOISED = 50_000;

function filterRegExp(filter: string): RegExp {
  const cached = regExps.get(filter);
  if (cached !== undefined) return cached;
  const levels = filter.split('/');
  let source = '';
  levels.forEach((level, i) => {
    const separator = i === 0 ? '' : '/';
    if (level === '#') source = i === 0 ? '.*' : `${source}(/.*)?`;
    else if (level === '+') source += `${separator}[^/]*`;
    else source += separator + escapeRegExp(level);
  });
  const regExp = new RegExp(`^${source}$`, 's');
  if (regExps.size >= MAX_MEMOISED) regExps.clear();
  regExps.set(filter, regExp);
  return regExp;
}

function matches(filter: string, name: string): boolean {
  if ((filter.startsWith('+') || filter.startsWith('#')) && name.startsWith('$')) return false;
  return filterRegExp(filter).test(name);
}

/**
 * Every name `rule` must match to cover `filter`: its wildcards replaced by a fresh level and, for `#`, the
 * parent and 1..depth fresh levels.
 */
function witnesses(filter: string, depth: number): string[] {
  const levels = filter.split('/').map((level) => (level === '+' ? FRESH : level));
  if (levels.at(-1) !== '#') return [levels.join('/')];
  const prefix = levels.slice(0, -1);
  const names = prefix.length > 0 ? [prefix.join('/')] : [];
  for (let extra = 1; extra <= depth; extra++) names.push([...prefix, ...Array(extra).fill(FRESH)].join('/'));
  return names.filter((name) => name !== '');
}

function covers(rule: string, filter: string): boolean {
  const depth = rule.split('/').length + 1;
  return witnesses(filter, depth).every((name) => matches(rule, name));
}

/**
 * Whether some name matches both: tries, for every length, the one name the filter surely matches that
 * takes the rule's literal wherever the filter leaves the level open. (Only the rule goes through a
 * RegExp: each subscription is new, and compiling a RegExp per query would dominate the test's time.)
 */
function intersects(rule: string, filter: string): boolean {
  const r = rule.split('/');
  const f = filter.split('/');
  const hash = f.at(-1) === '#';
  const pinned = hash ? f.length - 1 : f.length;
  const longest = hash ? Math.max(r.length, pinned) + 1 : pinned;
  for (let length = pinned; length <= longest; length++) {
    const levels: string[] = [];
    for (let i = 0; i < length; i++) {
      const own = f[i];
      const other = r[i];
      if (i < pinned && own !== '+') levels.push(own as string);
      else levels.push(other !== undefined && other !== '+' && other !== '#' ? other : FRESH);
    }
    const name = levels.join('/');
    const filterMatches = name !== '' && !((f[0] === '+' || f[0] === '#') && name.startsWith('$'));
    if (filterMatches && matches(rule, name)) return true;
  }
  return false;
}

/**
 * The most specific names both filters match, one per length: each level takes the filter's literal, else the
 * rule's literal, else a fresh level. Every name both match has the shape of one of them.
 */
function commonWitnesses(rule: string, filter: string, depth: number): string[] {
  const r = rule.split('/');
  const f = filter.split('/');
  const names: string[] = [];
  for (let length = 1; length <= depth; length++) {
    const levels: string[] = [];
    for (let i = 0; i < length; i++) {
      const own = f[i];
      const other = r[i];
      if (own !== undefined && own !== '+' && own !== '#') levels.push(own);
      else levels.push(other !== undefined && other !== '+' && other !== '#' ? other : FRESH);
    }
    const name = levels.join('/');
    if (name !== '' && matches(filter, name) && matches(rule, name)) names.push(name);
  }
  return names;
}

/** Whether `deny` matches every name that both `allow` and `filter` match (by brute force over witnesses). */
function coversCommonPart(deny: string, allow: string, filter: string): boolean {
  const depth = Math.max(...[deny, allow, filter].map((topic) => topic.split('/').length)) + 1;
  return commonWitnesses(allow, filter, depth).every((name) => matches(deny, name));
}

function ruleActionApplies(rule: AccessRule, request: AccessRequest): boolean {
  if (rule.action === 'all') return true;
  return request.action === 'publish' ? rule.action === 'publish' : rule.action === 'subscribe';
}

/** docs/access-rules.md by the letter: first match wins, no match denies. */
export function naiveDecide(
  roles: readonly RoleRules[],
  identity: Identity,
  request: AccessRequest,
): NaiveDecision {
  const qos = request.qos ?? 0;
  const retain = request.retain ?? false;
  if (![0, 1, 2].includes(qos) || !['publish', 'subscribe', 'receive'].includes(request.action)) {
    return { allowed: false, reason: 'invalid_request' };
  }
  let topic = request.topic;
  if (request.action === 'subscribe') {
    const filter = subscriptionFilter(topic);
    if (filter === null) return { allowed: false, reason: 'invalid_topic' };
    topic = filter;
  } else if (!isValidName(topic)) {
    return { allowed: false, reason: 'invalid_topic' };
  } else if (request.action === 'publish' && (topic === '$SYS' || topic.startsWith('$SYS/'))) {
    return { allowed: false, reason: 'sys_publish' };
  }

  // subscribe: the first deny meeting the filter rules out a full grant; the first allow granting a part of the
  // filter that no single earlier deny covers makes a partial grant
  let partial: NaiveDecision | null = null;
  let firstDeny: NaiveDecision | null = null;
  const denies: string[] = [];
  for (const role of roles) {
    for (const [ruleIndex, rule] of role.rules.entries()) {
      // HTTP rules are about forwarded HTTP requests, never about MQTT (docs/access-rules.md#http-rules).
      if (rule.action === 'http') continue;
      if (!isValidRule(rule) || !ruleActionApplies(rule, request)) continue;
      if (rule.qos !== undefined && !rule.qos.includes(qos)) continue;
      if (request.action !== 'subscribe' && rule.retain !== undefined && rule.retain !== retain) continue;
      const filter = expand(rule.topic, identity);
      if (filter === null) continue;
      const hit = { role: role.name, ruleIndex };
      if (request.action !== 'subscribe') {
        if (matches(filter, topic)) return { allowed: rule.permission === 'allow', reason: 'rule', ...hit };
      } else if (rule.permission === 'deny') {
        if (!intersects(filter, topic)) continue;
        if (partial !== null) return partial;
        firstDeny ??= { allowed: false, reason: 'rule', ...hit };
        denies.push(filter);
      } else if (firstDeny === null && covers(filter, topic)) {
        return { allowed: true, reason: 'rule', ...hit };
      } else if (
        partial === null &&
        intersects(filter, topic) &&
        !denies.some((deny) => coversCommonPart(deny, filter, topic))
      ) {
        partial = { allowed: false, reason: 'partial', ...hit };
        if (firstDeny !== null) return partial;
      }
    }
  }
  return partial ?? firstDeny ?? { allowed: false, reason: 'no_match' };
}
