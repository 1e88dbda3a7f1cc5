// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule paths spell the placeholder ${username} literally
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRoles } from './compile.js';
import { decide } from './decide.js';
import { compileHttpRules, decideHttp, validateHttpRule } from './http-match.js';
import { canonicalizeRequestPath, validateHttpRulePath } from './http-path.js';
import type { HttpRule, RoleRule } from './rule.types.js';

const allow = (path: string, methods?: string[]): HttpRule => ({
  permission: 'allow',
  action: 'http',
  path,
  ...(methods ? { methods } : {}),
});
const deny = (path: string, methods?: string[]): HttpRule => ({
  ...allow(path, methods),
  permission: 'deny',
});

function decision(rules: RoleRule[], method: string, path: string, username = 'alice') {
  return decideHttp(compileHttpRules([{ name: 'r', rules }]), { username }, { method, path });
}
const allowed = (rules: RoleRule[], method: string, path: string, username?: string): boolean =>
  decision(rules, method, path, username).allowed;

describe('canonicalizeRequestPath', () => {
  it.each([
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a//b', '/a/b'],
    ['//a///b//', '/a/b'],
    ['/a/b/', '/a/b'],
    ['/a/b?x=1&y=/../admin', '/a/b'],
    ['/a/b#frag', '/a/b'],
    ['/a%20b/c', '/a b/c'],
    ['/%41dmin', '/Admin'],
    ['/caf%C3%A9', '/café'],
    ['/a/...', '/a/...'],
    ['/a/.hidden', '/a/.hidden'],
  ])('%s is seen as %s', (raw, seen) => {
    expect(canonicalizeRequestPath(raw)).toMatchObject({ ok: true, path: seen });
  });

  it.each([
    ['/app/../admin', 'a . or .. segment'],
    ['/app/./admin', 'a . or .. segment'],
    ['/app/%2e%2e/admin', 'a . or .. segment'],
    ['/app/%2E%2e/admin', 'a . or .. segment'],
    ['/app/.%2e/admin', 'a . or .. segment'],
    ['/app/%2e/admin', 'a . or .. segment'],
    ['/..', 'a . or .. segment'],
    ['/app%2fadmin', 'an encoded slash in a segment'],
    ['/app%2Fadmin', 'an encoded slash in a segment'],
    ['/app/%5c..%5cadmin', 'a backslash in a segment'],
    ['/app\\admin', 'a backslash in a segment'],
    ['/app/..;/admin', 'a path parameter (;) in a segment'],
    ['/admin;x=1', 'a path parameter (;) in a segment'],
    ['/a%00b', 'a control character in a segment'],
    ['/a%zz', 'malformed percent-encoding'],
    ['/a%', 'malformed percent-encoding'],
    ['/a%C3', 'malformed percent-encoding'],
    ['a/b', 'the path must start with /'],
    ['http://evil/x', 'the path must start with /'],
    ['', 'no path'],
    [`/${'a'.repeat(9000)}`, 'the path is too long'],
  ])('refuses %j (%s)', (raw, error) => {
    expect(canonicalizeRequestPath(raw)).toEqual({ ok: false, error });
  });

  it('never throws, and what it accepts has no dot segment, no empty segment and starts with /', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (tail) => {
        const result = canonicalizeRequestPath(`/${tail}`);
        if (!result.ok) return;
        expect(result.path.startsWith('/')).toBe(true);
        for (const segment of result.segments) {
          expect(segment).not.toBe('');
          expect(segment).not.toBe('.');
          expect(segment).not.toBe('..');
          expect(segment).not.toMatch(/[/\\;]/);
        }
      }),
    );
  });

  it('is idempotent: the canonical path of a canonical path (re-encoded) is itself', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 6 }), (segments) => {
        const raw = `/${segments.map(encodeURIComponent).join('/')}`;
        const first = canonicalizeRequestPath(raw);
        if (!first.ok) return;
        const again = canonicalizeRequestPath(`/${first.segments.map(encodeURIComponent).join('/')}`);
        expect(again).toEqual(first);
      }),
    );
  });
});

describe('validateHttpRule', () => {
  it.each(['/', '/grafana/**', '/a/*/c', '/**', '/home/${username}/**', '/u-${username}-x', '/a/'])(
    'accepts %s',
    (path) => expect(validateHttpRule(allow(path))).toBeNull(),
  );

  it.each([
    ['grafana/**', 'must start with /'],
    ['', 'must start with /'],
    ['/a/../b', '. or ..'],
    ['/a/./b', '. or ..'],
    ['/**/a', 'only as the last segment'],
    ['/a/**/**', 'only as the last segment'],
    ['/a*', 'whole segments'],
    ['/a/b**', 'whole segments'],
    ['/a//b', 'empty segments'],
    ['/a?x=1', 'write paths decoded'],
    ['/a%2fb', 'write paths decoded'],
    ['/a;b', 'write paths decoded'],
    ['/a\\b', 'write paths decoded'],
    ['/a/${clientid}', 'only placeholder is ${username}'],
    ['/a/${other}', 'only placeholder is ${username}'],
    [`/${'a'.repeat(1024)}`, 'at most 1024 characters'],
    [`/${Array(65).fill('a').join('/')}`, 'at most 64 segments'],
  ])('refuses %j', (path, message) => {
    expect(validateHttpRule(allow(path))).toContain(message);
  });

  it('accepts only methods from the fixed list, and not an empty list', () => {
    expect(
      validateHttpRule(allow('/a', ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])),
    ).toBeNull();
    expect(validateHttpRule(allow('/a', ['get']))).toContain('methods must be from');
    expect(validateHttpRule(allow('/a', ['TRACE']))).toContain('methods must be from');
    expect(validateHttpRule(allow('/a', []))).toContain('non-empty');
    expect(validateHttpRule({ ...allow('/a'), permission: 'maybe' as 'allow' })).toContain('permission');
    expect(validateHttpRulePath(42)).toBe('must be a string');
  });
});

describe('decideHttp', () => {
  it('matches literal segments exactly (case-sensitive), ignoring the query, // and a trailing slash', () => {
    const rules = [allow('/status')];
    expect(allowed(rules, 'GET', '/status')).toBe(true);
    expect(allowed(rules, 'GET', '/status/')).toBe(true);
    expect(allowed(rules, 'GET', '//status?verbose=1')).toBe(true);
    expect(allowed(rules, 'GET', '/Status')).toBe(false);
    expect(allowed(rules, 'GET', '/status/x')).toBe(false);
    expect(allowed(rules, 'GET', '/')).toBe(false);
  });

  it('* matches exactly one segment', () => {
    const rules = [allow('/a/*/c')];
    expect(allowed(rules, 'GET', '/a/b/c')).toBe(true);
    expect(allowed(rules, 'GET', '/a/c')).toBe(false);
    expect(allowed(rules, 'GET', '/a//c')).toBe(false);
    expect(allowed(rules, 'GET', '/a/b/b/c')).toBe(false);
  });

  it('** matches any rest, zero segments included', () => {
    const rules = [allow('/grafana/**')];
    for (const path of ['/grafana', '/grafana/', '/grafana/d/x/y', '/grafana?x']) {
      expect(allowed(rules, 'GET', path)).toBe(true);
    }
    expect(allowed(rules, 'GET', '/grafanax')).toBe(false);
    expect(allowed(rules, 'GET', '/other/grafana')).toBe(false);
    expect(allowed([allow('/**')], 'GET', '/')).toBe(true);
  });

  it('the rule / matches only the root', () => {
    expect(allowed([allow('/')], 'GET', '/')).toBe(true);
    expect(allowed([allow('/')], 'GET', '/a')).toBe(false);
  });

  it('expands ${username} as a whole segment and inside one', () => {
    const rules = [allow('/home/${username}/**'), allow('/u-${username}-x')];
    expect(allowed(rules, 'GET', '/home/alice/docs')).toBe(true);
    expect(allowed(rules, 'GET', '/home/bob/docs')).toBe(false);
    expect(allowed(rules, 'GET', '/u-alice-x')).toBe(true);
    expect(allowed(rules, 'GET', '/u-bob-x')).toBe(false);
    // the value is matched literally: a user named like a wildcard gets nothing more
    expect(allowed([allow('/home/${username}')], 'GET', '/home/x', '*')).toBe(false);
    expect(allowed([allow('/home/${username}')], 'GET', '/home/*', '*')).toBe(true);
  });

  it('a placeholder value that is no single plain segment never matches', () => {
    for (const username of ['', 'a/b', '..', '.', 'a;b', 'a\\b']) {
      expect(allowed([allow('/home/${username}/**')], 'GET', '/home/x', username)).toBe(false);
    }
  });

  it('methods restrict the rule; omitted = every method, any token', () => {
    const rules = [allow('/api/**', ['GET', 'HEAD']), deny('/api/**'), allow('/**')];
    expect(decision(rules, 'GET', '/api/x')).toMatchObject({ allowed: true, ruleIndex: 0 });
    expect(decision(rules, 'HEAD', '/api/x')).toMatchObject({ allowed: true, ruleIndex: 0 });
    expect(decision(rules, 'POST', '/api/x')).toMatchObject({ allowed: false, ruleIndex: 1 });
    expect(decision(rules, 'PROPFIND', '/x')).toMatchObject({ allowed: true, ruleIndex: 2 });
    expect(decision(rules, 'get', '/x')).toEqual({ allowed: false, reason: 'invalid_request' });
    expect(decision(rules, 'GE T', '/x')).toEqual({ allowed: false, reason: 'invalid_request' });
    expect(decision(rules, '', '/x')).toEqual({ allowed: false, reason: 'invalid_request' });
  });

  it('first match wins across roles in order; no match denies', () => {
    const set = compileHttpRules([
      { name: 'first', rules: [deny('/admin/**')] },
      { name: 'second', rules: [allow('/**')] },
    ]);
    expect(decideHttp(set, { username: 'a' }, { method: 'GET', path: '/admin/x' })).toMatchObject({
      allowed: false,
      reason: 'rule',
      role: 'first',
      ruleIndex: 0,
    });
    expect(decideHttp(set, { username: 'a' }, { method: 'GET', path: '/x' })).toMatchObject({
      allowed: true,
      role: 'second',
      ruleIndex: 0,
      canonicalPath: '/x',
    });
    expect(decision([allow('/a')], 'GET', '/b')).toEqual({
      allowed: false,
      reason: 'no_match',
      canonicalPath: '/b',
    });
  });

  it.each([
    '/app/../admin',
    '/app/%2e%2e/admin',
    '/app/%2E%2E/admin',
    '/app%2fadmin',
    '/app/..;/admin',
    '/app/%5c../admin',
    '/app/%zz',
  ])('denies the canonicalisation attack %s even under allow /**', (path) => {
    expect(decision([allow('/**')], 'GET', path)).toMatchObject({ allowed: false, reason: 'invalid_path' });
  });

  it('a deny cannot be side-stepped by spelling the path differently', () => {
    const rules = [deny('/admin/**'), allow('/**')];
    for (const path of ['/admin', '//admin', '/admin/', '/%61dmin', '/admin?x', '/./admin', '/x/../admin']) {
      expect(allowed(rules, 'GET', path)).toBe(false);
    }
  });

  it('keeps rule indices within the role when MQTT rules come first, and skips malformed rules', () => {
    const set = compileHttpRules([
      {
        name: 'mixed',
        rules: [{ permission: 'allow', action: 'all', topic: '#' }, allow('a/no-slash'), allow('/ok')],
      },
    ]);
    expect(set.invalidRules).toEqual([{ role: 'mixed', ruleIndex: 1, error: 'path must start with /' }]);
    expect(decideHttp(set, { username: 'u' }, { method: 'GET', path: '/ok' })).toMatchObject({
      ruleIndex: 2,
    });
  });
});

describe('HTTP rules never touch MQTT decisions', () => {
  it('the MQTT engine skips HTTP rules (not even as invalid) and keeps the stored rule indices', () => {
    const withHttp = compileRoles([
      { name: 'r', rules: [allow('/**'), deny('/#'), { permission: 'allow', action: 'all', topic: '#' }] },
    ]);
    expect(withHttp.invalidRules).toEqual([]);
    expect(withHttp.ruleCount).toBe(1);
    expect(decide(withHttp, { username: 'u' }, { action: 'publish', topic: 'a/b' })).toMatchObject({
      allowed: true,
      ruleIndex: 2,
    });
    const onlyHttp = compileRoles([{ name: 'r', rules: [allow('/**'), allow('#')] }]);
    for (const action of ['publish', 'subscribe', 'receive'] as const) {
      expect(decide(onlyHttp, { username: 'u' }, { action, topic: 'a' })).toMatchObject({
        allowed: false,
        reason: 'no_match',
      });
    }
  });
});
