/**
 * The HTTP rule matcher (docs/access-rules.md#http-rules): pure, no I/O, never throws. Compile a user's ordered
 * role list once with {@link compileHttpRules}, then ask {@link decideHttp} per forwarded request. First match
 * wins over the roles' rules in order; no match denies. MQTT rules are not part of a compiled HTTP set, and HTTP
 * rules are not part of a compiled MQTT set (compile.ts skips them).
 */

import {
  canonicalizeRequestPath,
  type PathSegment,
  parseRulePath,
  validateHttpRulePath,
} from './http-path.js';
import { isExpandableValue, placeholderValue } from './placeholder.js';
import {
  HTTP_METHODS,
  type HttpDecision,
  type HttpRequest,
  type HttpRule,
  type Identity,
  isHttpRule,
  type RoleRule,
} from './rule.types.js';

/** Checks a stored HTTP rule: permission, methods from {@link HTTP_METHODS}, path syntax. Null when valid. */
export function validateHttpRule(rule: HttpRule): string | null {
  if (rule.permission !== 'allow' && rule.permission !== 'deny') return 'permission must be allow or deny';
  if (rule.methods !== undefined) {
    if (!Array.isArray(rule.methods) || rule.methods.length === 0) {
      return 'methods must be a non-empty list (omit it for every method)';
    }
    const unknown = rule.methods.find((method) => !(HTTP_METHODS as readonly string[]).includes(method));
    if (unknown !== undefined)
      return `methods must be from ${HTTP_METHODS.join(', ')} (got ${String(unknown)})`;
  }
  const pathError = validateHttpRulePath(rule.path);
  return pathError === null ? null : `path ${pathError}`;
}

interface CompiledHttpRule {
  readonly rule: HttpRule;
  readonly role: string;
  readonly ruleIndex: number;
  /** Methods the rule applies to; null = every method. */
  readonly methods: ReadonlySet<string> | null;
  readonly segments: readonly PathSegment[];
  /** The pattern ends with `**`. */
  readonly rest: boolean;
}

/** An ordered role list's HTTP rules compiled for {@link decideHttp}. Immutable. */
export interface CompiledHttpRules {
  readonly rules: readonly CompiledHttpRule[];
  /** HTTP rules skipped because they are malformed (they never match). */
  readonly invalidRules: ReadonlyArray<{
    readonly role: string;
    readonly ruleIndex: number;
    readonly error: string;
  }>;
}

/**
 * Compiles the HTTP rules of an ordered role list, keeping each rule's index within its role. MQTT rules are
 * left out; malformed HTTP rules never match and are listed in `invalidRules`.
 */
export function compileHttpRules(
  roles: ReadonlyArray<{ readonly name: string; readonly rules: readonly RoleRule[] }>,
): CompiledHttpRules {
  const rules: CompiledHttpRule[] = [];
  const invalidRules: Array<{ role: string; ruleIndex: number; error: string }> = [];
  for (const role of roles) {
    role.rules.forEach((rule, ruleIndex) => {
      if (!isHttpRule(rule)) return;
      const error = validateHttpRule(rule);
      if (error !== null) {
        invalidRules.push({ role: role.name, ruleIndex, error });
        return;
      }
      const segments = parseRulePath(rule.path);
      const rest = segments.at(-1)?.kind === 'rest';
      rules.push({
        rule,
        role: role.name,
        ruleIndex,
        methods: rule.methods === undefined ? null : new Set(rule.methods),
        segments: rest ? segments.slice(0, -1) : segments,
        rest,
      });
    });
  }
  return Object.freeze({ rules: Object.freeze(rules), invalidRules: Object.freeze(invalidRules) });
}

/** A method token (RFC 9110 §9.1), upper case as methods are case-sensitive; at most 32 characters. */
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Z-]{1,32}$/;

function segmentMatches(pattern: PathSegment, segment: string, identity: Identity): boolean {
  switch (pattern.kind) {
    case 'one':
      return true;
    case 'literal':
      return pattern.text === segment;
    case 'template': {
      let expanded = '';
      for (const part of pattern.parts) {
        if (typeof part === 'string') {
          expanded += part;
          continue;
        }
        const value = placeholderValue(identity, part);
        // A value that is no single plain segment cannot stand in (the rule then does not match).
        if (!isExpandableValue(value) || canonicalizeRequestPath(`/${value}`).ok !== true) return false;
        expanded += value;
      }
      return expanded === segment;
    }
    case 'rest':
      return true;
  }
}

function pathMatches(rule: CompiledHttpRule, segments: readonly string[], identity: Identity): boolean {
  const fixed = rule.segments.length;
  if (rule.rest ? segments.length < fixed : segments.length !== fixed) return false;
  for (let i = 0; i < fixed; i++) {
    if (!segmentMatches(rule.segments[i] as PathSegment, segments[i] as string, identity)) return false;
  }
  return true;
}

/**
 * Decides one forwarded request: the method must be a valid token, the path is canonicalised
 * ({@link canonicalizeRequestPath}; a refused path is denied with reason `invalid_path`), then the first rule
 * whose methods hold the method and whose pattern matches the canonical segments decides. No match denies.
 */
export function decideHttp(set: CompiledHttpRules, identity: Identity, request: HttpRequest): HttpDecision {
  if (typeof request.method !== 'string' || !METHOD_TOKEN.test(request.method)) {
    return { allowed: false, reason: 'invalid_request' };
  }
  const canonical = canonicalizeRequestPath(request.path);
  if (!canonical.ok) return { allowed: false, reason: 'invalid_path', pathError: canonical.error };
  for (const compiled of set.rules) {
    if (compiled.methods !== null && !compiled.methods.has(request.method)) continue;
    if (!pathMatches(compiled, canonical.segments, identity)) continue;
    return {
      allowed: compiled.rule.permission === 'allow',
      reason: 'rule',
      role: compiled.role,
      ruleIndex: compiled.ruleIndex,
      rule: compiled.rule,
      canonicalPath: canonical.path,
    };
  }
  return { allowed: false, reason: 'no_match', canonicalPath: canonical.path };
}

/** A rule path with `${username}` filled in for display (explain, effective access). */
export function expandHttpRulePath(path: string, username: string): string {
  return path.replaceAll('${username}', username);
}
