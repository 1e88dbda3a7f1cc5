/**
 * HTTP paths for HTTP rules (docs/access-rules.md#what-the-matcher-sees): the canonical form of a request path
 * the matcher decides on, and the syntax of rule paths. A proxy and its upstream must not disagree about which
 * resource a request names, so anything an upstream could read differently from the matcher — dot segments,
 * encoded slashes, path parameters, backslashes, malformed encodings — is refused (the request is denied)
 * instead of being guessed at.
 */

import { PLACEHOLDER_TOKENS, parsePlaceholders, type TemplatePart, USERNAME } from './placeholder.js';

/** Longest request target (query included) the matcher reads; longer ones are refused. */
export const MAX_REQUEST_PATH_LENGTH = 8192;
/** Longest rule path, and most segments in one. */
export const MAX_RULE_PATH_LENGTH = 1024;
export const MAX_RULE_PATH_SEGMENTS = 64;

export type CanonicalPath =
  | { readonly ok: true; readonly segments: readonly string[]; readonly path: string }
  | { readonly ok: false; readonly error: string };

/** Characters no decoded segment may hold: controls (NUL included), `/`, `\` and `;`. */
function forbiddenIn(segment: string): string | null {
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'a control character';
    if (c === 0x2f) return 'an encoded slash';
    if (c === 0x5c) return 'a backslash';
    if (c === 0x3b) return 'a path parameter (;)';
  }
  return null;
}

function isDotSegment(segment: string): boolean {
  return segment === '.' || segment === '..';
}

/**
 * The path a request names, as the matcher sees it: the query (`?…`) and fragment (`#…`) cut off, split at `/`,
 * each segment percent-decoded as UTF-8, empty segments dropped (`//` and a trailing `/` change nothing), and
 * joined again with single slashes. Refused (never resolved): a target not starting with `/`, `.` or `..`
 * segments (also when encoded: `%2e%2e`), an encoded slash (`%2f`), a backslash, a `;`, a control character,
 * malformed percent-encoding or UTF-8, and a target over {@link MAX_REQUEST_PATH_LENGTH} characters.
 */
export function canonicalizeRequestPath(raw: string): CanonicalPath {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, error: 'no path' };
  if (raw.length > MAX_REQUEST_PATH_LENGTH) return { ok: false, error: 'the path is too long' };
  let end = raw.length;
  const query = raw.indexOf('?');
  if (query !== -1) end = query;
  const fragment = raw.indexOf('#');
  if (fragment !== -1 && fragment < end) end = fragment;
  const target = raw.slice(0, end);
  if (target.charCodeAt(0) !== 0x2f) return { ok: false, error: 'the path must start with /' };
  const segments: string[] = [];
  for (const encoded of target.split('/')) {
    if (encoded.length === 0) continue;
    let segment: string;
    try {
      segment = encoded.includes('%') ? decodeURIComponent(encoded) : encoded;
    } catch {
      return { ok: false, error: 'malformed percent-encoding' };
    }
    if (isDotSegment(segment)) return { ok: false, error: 'a . or .. segment' };
    const forbidden = forbiddenIn(segment);
    if (forbidden !== null) return { ok: false, error: `${forbidden} in a segment` };
    segments.push(segment);
  }
  return { ok: true, segments, path: `/${segments.join('/')}` };
}

/** One segment of a rule path. */
export type PathSegment =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'template'; readonly parts: readonly TemplatePart[] }
  | { readonly kind: 'one' }
  | { readonly kind: 'rest' };

/**
 * Checks a rule path: starts with `/`, at most {@link MAX_RULE_PATH_LENGTH} characters and
 * {@link MAX_RULE_PATH_SEGMENTS} segments, no empty segment (`//`) except a trailing `/`, no `.`/`..` segment, no
 * `?`, `#`, `%`, `\`, `;` or control character, `**` only as the whole last segment, `*` only as a whole segment,
 * and `${username}` as the only placeholder.
 * @returns an error message, or null when valid.
 */
export function validateHttpRulePath(path: unknown): string | null {
  if (typeof path !== 'string') return 'must be a string';
  if (!path.startsWith('/')) return 'must start with /';
  if (path.length > MAX_RULE_PATH_LENGTH) return `must be at most ${MAX_RULE_PATH_LENGTH} characters`;
  const segments = path.slice(1).split('/');
  if (segments.length > 1 && segments.at(-1) === '') segments.pop();
  if (segments.length > MAX_RULE_PATH_SEGMENTS) return `must have at most ${MAX_RULE_PATH_SEGMENTS} segments`;
  for (const [index, segment] of segments.entries()) {
    if (segment === '' && segments.length > 1) return 'must not contain empty segments (//)';
    if (isDotSegment(segment)) return 'must not contain . or .. segments';
    if (/[?#%\\;]/.test(segment)) return 'must not contain ?, #, %, \\ or ; (write paths decoded)';
    if (forbiddenIn(segment) !== null) return 'must not contain control characters';
    if (segment === '**') {
      if (index !== segments.length - 1) return '** is allowed only as the last segment';
      continue;
    }
    if (segment.includes('*') && segment !== '*') return '* and ** must be whole segments';
    const withoutPlaceholders = segment.replaceAll(PLACEHOLDER_TOKENS[USERNAME] as string, '');
    if (withoutPlaceholders.includes('${')) return 'the only placeholder is ${username}';
  }
  return null;
}

/** The segments of a valid rule path (see {@link validateHttpRulePath}); `/` alone has none. */
export function parseRulePath(path: string): PathSegment[] {
  const segments = path
    .slice(1)
    .split('/')
    .filter((segment) => segment !== '');
  return segments.map((segment): PathSegment => {
    if (segment === '**') return { kind: 'rest' };
    if (segment === '*') return { kind: 'one' };
    const parts = parsePlaceholders(segment);
    return parts === null ? { kind: 'literal', text: segment } : { kind: 'template', parts };
  });
}
