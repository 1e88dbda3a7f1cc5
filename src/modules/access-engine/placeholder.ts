/**
 * Rule-topic placeholders (`${username}`, `${clientid}`). Compiled rule sets keep them symbolic so one
 * compiled set serves every user holding the same role list; they are expanded per query against the
 * identity.
 */

import type { Identity } from './rule.types.js';

export const USERNAME = 0;
export const CLIENTID = 1;
/** Index into {@link PLACEHOLDER_NAMES}. */
export type PlaceholderId = typeof USERNAME | typeof CLIENTID;

export const PLACEHOLDER_NAMES = ['username', 'clientid'] as const;
/** The placeholder tokens as written in rule topics. */
export const PLACEHOLDER_TOKENS: readonly string[] = PLACEHOLDER_NAMES.map((name) => `\${${name}}`);

/** Literal text or a placeholder, e.g. `dt-${username}` → `['dt-', USERNAME]`. */
export type TemplatePart = string | PlaceholderId;

/** Bit of a placeholder in an "expandable" or "needs" mask. */
export function placeholderBit(id: PlaceholderId): number {
  return 1 << id;
}

/** Which placeholder token starts at `index` of `text`, or null. */
export function placeholderAt(text: string, index: number): PlaceholderId | null {
  if (text.startsWith(PLACEHOLDER_TOKENS[USERNAME] as string, index)) return USERNAME;
  if (text.startsWith(PLACEHOLDER_TOKENS[CLIENTID] as string, index)) return CLIENTID;
  return null;
}

/** Length of the token of a placeholder (`${username}` → 11). */
export function placeholderTokenLength(id: PlaceholderId): number {
  return (PLACEHOLDER_TOKENS[id] as string).length;
}

/**
 * Splits text (a rule level or a whole rule topic) into literal text and placeholders; null when it holds
 * no placeholder. Text like `${other}` that is no known placeholder stays literal (validation rejects it
 * in rule topics).
 */
export function parsePlaceholders(text: string): TemplatePart[] | null {
  let parts: TemplatePart[] | null = null;
  let literalStart = 0;
  for (let i = text.indexOf('${'); i !== -1; i = text.indexOf('${', i)) {
    const id = placeholderAt(text, i);
    if (id === null) {
      i += 2;
      continue;
    }
    parts ??= [];
    if (i > literalStart) parts.push(text.slice(literalStart, i));
    parts.push(id);
    i += placeholderTokenLength(id);
    literalStart = i;
  }
  if (parts !== null && literalStart < text.length) parts.push(text.slice(literalStart));
  return parts;
}

/**
 * Whether a value can stand in for a placeholder: non-empty and free of `/`, `+`, `#` and NUL, so that
 * expansion can neither add levels nor smuggle wildcards into a rule.
 */
export function isExpandableValue(value: string | null | undefined): value is string {
  if (value === null || value === undefined || value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x2f || c === 0x2b || c === 0x23 || c === 0) return false;
  }
  return true;
}

/** Bit mask of the placeholders `identity` can expand. */
export function expandableMask(identity: Identity): number {
  return (
    (isExpandableValue(identity.username) ? placeholderBit(USERNAME) : 0) |
    (isExpandableValue(identity.clientid) ? placeholderBit(CLIENTID) : 0)
  );
}

/** The value a placeholder expands to for `identity` (unchecked: see {@link isExpandableValue}). */
export function placeholderValue(identity: Identity, id: PlaceholderId): string {
  return (id === USERNAME ? identity.username : identity.clientid) ?? '';
}

export interface ExpandedTopic {
  readonly topic: string;
  /** The placeholders the topic used, by name. */
  readonly placeholders: Readonly<Record<string, string>>;
}

/**
 * Expands the placeholders of a rule topic for `identity`; null when one of them cannot be expanded (the
 * rule then never matches). Used to explain decisions, never on the hot path.
 */
export function expandRuleTopic(topic: string, identity: Identity): ExpandedTopic | null {
  const placeholders: Record<string, string> = {};
  let expanded = '';
  for (const part of parsePlaceholders(topic) ?? [topic]) {
    if (typeof part === 'string') {
      expanded += part;
      continue;
    }
    const value = placeholderValue(identity, part);
    if (!isExpandableValue(value)) return null;
    placeholders[PLACEHOLDER_NAMES[part]] = value;
    expanded += value;
  }
  return { topic: expanded, placeholders };
}
