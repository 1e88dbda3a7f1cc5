/**
 * MQTT topic semantics (MQTT 3.1.1 / 5.0 §4.7, shared subscriptions §4.8.2): validation of names, filters and
 * rule topics, and the reference matching relations between plain filters. Pure, never throws.
 */

import { PLACEHOLDER_TOKENS, placeholderAt, placeholderTokenLength } from './placeholder.js';

/** MQTT-4.7.3-3: a topic is at most 65535 UTF-8 bytes. */
export const MAX_TOPIC_BYTES = 65_535;
/**
 * Our own cap on levels (MQTT sets none): keeps per-query work bounded against hostile topics. No real
 * deployment comes close.
 */
export const MAX_TOPIC_LEVELS = 100;
export const SHARE_PREFIX = '$share/';

const NUL = 0x00;
const HASH = 0x23;
const DOLLAR = 0x24;
const PLUS = 0x2b;
const SLASH = 0x2f;
const OPEN_BRACE = 0x7b;

const EMPTY = 'must not be empty';
const HAS_NUL = 'must not contain U+0000';
const LONE_SURROGATE = 'must be valid UTF-8 (contains a lone surrogate)';
const TOO_LONG = `must not exceed ${MAX_TOPIC_BYTES} UTF-8 bytes`;
const TOO_DEEP = `must not have more than ${MAX_TOPIC_LEVELS} levels`;
const WILDCARD_IN_NAME = 'must not contain wildcards (+, #)';
const PLUS_PLACEMENT = "'+' must occupy a whole level";
const HASH_PLACEMENT = "'#' must occupy the whole last level";
const UNKNOWN_PLACEHOLDER = `unknown placeholder (only ${PLACEHOLDER_TOKENS.join(' and ')})`;
const SHARED_IN_RULE = 'must not start with $share: a shared subscription is checked on its inner filter';
const SHARE_GROUP = 'shared subscription group must be at least one character without /, +, #';
const SHARE_FILTER = 'shared subscription $share/<group>/ must be followed by a filter';

type TopicKind = 'name' | 'filter' | 'rule';

/**
 * One pass over the characters: placement of wildcards, NUL, UTF-8 validity and size, level count. Every
 * character that needs a look is at most '/', so ordinary characters cost one comparison (hot path).
 */
function checkTopic(text: string, kind: TopicKind): string | null {
  const length = text.length;
  if (length === 0) return EMPTY;
  let extraBytes = 0; // UTF-8 bytes beyond one per UTF-16 unit
  let levels = 1;
  let levelStart = 0;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c > SLASH) {
      if (c < 0x80) continue;
      if (c < 0x800) extraBytes += 1;
      else if (c < 0xd800 || c > 0xdfff) extraBytes += 2;
      else if (c <= 0xdbff && i + 1 < length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        extraBytes += 2; // a surrogate pair: 4 bytes for 2 units
        i++;
      } else return LONE_SURROGATE;
    } else if (c === SLASH) {
      if (++levels > MAX_TOPIC_LEVELS) return TOO_DEEP;
      levelStart = i + 1;
    } else if (c === NUL) {
      return HAS_NUL;
    } else if (c === PLUS || c === HASH) {
      if (kind === 'name') return WILDCARD_IN_NAME;
      const levelEnds = i + 1 === length || text.charCodeAt(i + 1) === SLASH;
      if (c === PLUS && !(i === levelStart && levelEnds)) return PLUS_PLACEMENT;
      if (c === HASH && !(i === levelStart && i + 1 === length)) return HASH_PLACEMENT;
    } else if (c === DOLLAR && kind === 'rule' && text.charCodeAt(i + 1) === OPEN_BRACE) {
      const id = placeholderAt(text, i);
      if (id === null) return UNKNOWN_PLACEHOLDER;
      i += placeholderTokenLength(id) - 1;
    }
  }
  return length + extraBytes > MAX_TOPIC_BYTES ? TOO_LONG : null;
}

/**
 * Checks a topic name (what is published or delivered): 1..65535 UTF-8 bytes, no wildcards, no NUL, at most
 * {@link MAX_TOPIC_LEVELS} levels.
 * @returns an error message, or null when valid.
 */
export function validateTopicName(name: string): string | null {
  return checkTopic(name, 'name');
}

/** `String.prototype.isWellFormed` (ES2024): in Node 20, not in the project's ES2023 typings. */
interface WellFormedString {
  isWellFormed(): boolean;
}

/**
 * {@link validateTopicName} as a boolean, for the hot path. A name shorter than {@link MAX_TOPIC_LEVELS}
 * units can exceed neither the level nor the byte limit, so four native scans replace the character loop.
 */
export function isValidTopicName(name: string): boolean {
  if (
    name.length > 0 &&
    name.length < MAX_TOPIC_LEVELS &&
    (name as unknown as WellFormedString).isWellFormed()
  ) {
    return name.indexOf('+') === -1 && name.indexOf('#') === -1 && name.indexOf('\u0000') === -1;
  }
  return checkTopic(name, 'name') === null;
}

/** A subscription filter split into its shared-subscription group (null when not shared) and the filter. */
export type ParsedSubscription =
  | { readonly ok: true; readonly group: string | null; readonly filter: string }
  | { readonly ok: false; readonly error: string };

/**
 * Parses and validates a subscription filter, including the shared form `$share/<group>/<filter>` (group
 * ≥ 1 character without `/`, `+`, `#`; the filter is what access rules are checked on).
 */
export function parseSubscription(subscription: string): ParsedSubscription {
  const error = checkTopic(subscription, 'filter');
  if (error !== null) return { ok: false, error };
  if (!subscription.startsWith(SHARE_PREFIX)) return { ok: true, group: null, filter: subscription };
  const slash = subscription.indexOf('/', SHARE_PREFIX.length);
  if (slash === -1 || slash + 1 === subscription.length) return { ok: false, error: SHARE_FILTER };
  const group = subscription.slice(SHARE_PREFIX.length, slash);
  // '+' and '#' can only be whole levels here: checkTopic rejected any other placement
  if (group.length === 0 || group === '+' || group === '#') return { ok: false, error: SHARE_GROUP };
  return { ok: true, group, filter: subscription.slice(slash + 1) };
}

/**
 * Checks a subscription filter (optionally `$share/<group>/<filter>`): 1..65535 UTF-8 bytes, `+` only as a
 * whole level, `#` only as the whole last level, no NUL, at most {@link MAX_TOPIC_LEVELS} levels.
 * @returns an error message, or null when valid.
 */
export function validateTopicFilter(subscription: string): string | null {
  const parsed = parseSubscription(subscription);
  return parsed.ok ? null : parsed.error;
}

/**
 * Checks the topic of a stored rule: a valid filter that may contain `${username}` / `${clientid}` (also
 * inside a level) and does not start with `$share`.
 * @returns an error message, or null when valid.
 */
export function validateRuleTopic(topic: string): string | null {
  const error = checkTopic(topic, 'rule');
  if (error !== null) return error;
  return topic === '$share' || topic.startsWith(SHARE_PREFIX) ? SHARED_IN_RULE : null;
}

/** Whether a name (or a filter's first level) starts with `$`: wildcard-first filters never match it. */
export function isDollarLevel(level: string): boolean {
  return level.charCodeAt(0) === DOLLAR;
}

function isWildcard(level: string | undefined): boolean {
  return level === '+' || level === '#';
}

/**
 * Whether a plain filter (no placeholders) matches a topic name, per MQTT §4.7: `a/#` matches `a`, `a/+`
 * matches `a/` but not `a`, filters starting with a wildcard never match `$` names.
 */
export function topicMatches(filter: string, name: string): boolean {
  const f = filter.split('/');
  const n = name.split('/');
  if (isWildcard(f[0]) && isDollarLevel(name)) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i === n.length || (level !== '+' && level !== n[i])) return false;
  }
  return f.length === n.length;
}

/**
 * Whether every name matched by filter `other` is matched by `filter` (both plain filters). `a/#` covers
 * `a`, `a/+/c` and `a/#`; `a/+` does not cover `a/#`; `#` does not cover `$SYS/#` (it matches no `$` name),
 * only a filter starting with the same `$` level can.
 */
export function filterCovers(filter: string, other: string): boolean {
  const f = filter.split('/');
  const o = other.split('/');
  if (isWildcard(f[0]) && isDollarLevel(other)) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    const otherLevel = o[i];
    if (otherLevel === '#') {
      // names are never empty: `#` and `/#` have no parent name, so `+/#` in their place matches as much
      const noParent = i === 0 || (i === 1 && o[0] === '');
      return noParent && level === '+' && f[i + 1] === '#';
    }
    if (otherLevel === undefined) return false;
    if (level !== '+' && level !== otherLevel) return false;
  }
  return f.length === o.length;
}

/** Whether some topic name is matched by both plain filters. */
export function filtersIntersect(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  const xWild = isWildcard(x[0]);
  const yWild = isWildcard(y[0]);
  // their only common level sequence is the single empty level, and an empty string is no name
  if ((a === '+' && b === '/#') || (a === '/#' && b === '+')) return false;
  // a name starting with '$' is excluded by a wildcard-first filter, so a '$' literal first level never meets one
  if ((xWild && !yWild && isDollarLevel(b)) || (yWild && !xWild && isDollarLevel(a))) return false;
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '#' || q === '#') return true;
    if (p === undefined || q === undefined) return p === q;
    if (p !== '+' && q !== '+' && p !== q) return false;
  }
}

/**
 * The filter matching exactly the names both plain filters match, or null when none does. `a/#` and `a/+` give
 * `a/+`; `a/#` and `a` give `a` (`#` also matches its parent); `+/b` and `a/+` give `a/b`; `#` and `$SYS/x` give
 * null. Used to tell which part of a subscription an allow rule grants and whether a deny rule covers that part.
 */
export function filterIntersection(a: string, b: string): string | null {
  if (!filtersIntersect(a, b)) return null;
  const x = a.split('/');
  const y = b.split('/');
  const levels: string[] = [];
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    // `#` matches its parent and everything below it: what is left of the other filter, which may be nothing
    if (p === '#') return [...levels, ...y.slice(i)].join('/');
    if (q === '#') return [...levels, ...x.slice(i)].join('/');
    // filtersIntersect rules out different lengths without `#` and different literals
    if (p === undefined || q === undefined) return levels.join('/');
    levels.push(p === '+' ? q : p);
  }
}
