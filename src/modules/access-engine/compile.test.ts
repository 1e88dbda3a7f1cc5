// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule topics spell the placeholders ${username} / ${clientid} literally
import { describe, expect, it } from 'vitest';
import { compileRoles, validateRule } from './compile.js';
import { decide } from './decide.js';
import type { AccessRule } from './rule.types.js';

const rule = (topic: string, extra: Partial<AccessRule> = {}): AccessRule => ({
  permission: 'allow',
  action: 'publish',
  topic,
  ...extra,
});

describe('validateRule', () => {
  it('accepts a well-formed rule', () => {
    expect(validateRule(rule('dt/${username}/+/up', { qos: [0, 1], retain: false }))).toBeNull();
    expect(validateRule(rule('a', { qos: [] }))).toBeNull();
  });

  it.each([
    [{ permission: 'maybe' }, 'permission'],
    [{ action: 'connect' }, 'action'],
    [{ action: 'toString' }, 'action'],
    [{ topic: 'a/#/b' }, "topic '#'"],
    [{ topic: 42 }, 'topic must be a string'],
    [{ qos: [3] }, 'qos'],
    [{ qos: '0,1' }, 'qos'],
    [{ retain: 'yes' }, 'retain'],
  ])('rejects %j', (change, message) => {
    expect(validateRule({ ...rule('a'), ...(change as unknown as Partial<AccessRule>) })).toContain(message);
  });
});

describe('compileRoles', () => {
  it('reports malformed rules and never lets them match, keeping the others in order', () => {
    const set = compileRoles([
      { name: 'r', rules: [rule('a/#/b'), rule('a/#', { permission: 'deny' }), rule('#')] },
      { name: 's', rules: [rule('x', { qos: [5 as 0] })] },
    ]);
    expect(set.invalidRules).toEqual([
      { role: 'r', ruleIndex: 0, error: expect.stringContaining("'#'") },
      { role: 's', ruleIndex: 0, error: expect.stringContaining('qos') },
    ]);
    expect(set.ruleCount).toBe(2);
    expect(decide(set, { username: 'u' }, { action: 'publish', topic: 'a/b' })).toMatchObject({
      allowed: false,
      role: 'r',
      ruleIndex: 1,
    });
    expect(decide(set, { username: 'u' }, { action: 'publish', topic: 'x' })).toMatchObject({
      allowed: true,
      role: 'r',
      ruleIndex: 2,
    });
  });

  it('keeps the role names for decisions, also of empty roles', () => {
    const set = compileRoles([
      { name: 'empty', rules: [] },
      { name: 'second', rules: [rule('a')] },
    ]);
    expect(set.roleNames).toEqual(['empty', 'second']);
    expect(decide(set, { username: 'u' }, { action: 'publish', topic: 'a' }).role).toBe('second');
  });

  it('compiles many rules sharing prefixes into one trie, first rule first', () => {
    const rules = Array.from({ length: 5_000 }, (_, i) =>
      rule(`site/${i % 50}/dev/${i}`, { permission: i % 2 ? 'deny' : 'allow' }),
    );
    rules.push(rule('site/#', { permission: 'deny' }));
    const set = compileRoles([{ name: 'big', rules }]);
    expect(decide(set, { username: 'u' }, { action: 'publish', topic: 'site/10/dev/10' })).toMatchObject({
      allowed: true,
      ruleIndex: 10,
    });
    expect(decide(set, { username: 'u' }, { action: 'publish', topic: 'site/10/dev/11' }).ruleIndex).toBe(
      5_000,
    );
  });
});
