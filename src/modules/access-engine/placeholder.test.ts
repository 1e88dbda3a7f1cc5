// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule topics spell the placeholders ${username} / ${clientid} literally
import { describe, expect, it } from 'vitest';
import { CLIENTID, expandRuleTopic, isExpandableValue, parsePlaceholders, USERNAME } from './placeholder.js';

describe('parsePlaceholders', () => {
  it('splits literal text and placeholders', () => {
    expect(parsePlaceholders('dt-${username}-x')).toEqual(['dt-', USERNAME, '-x']);
    expect(parsePlaceholders('${username}${clientid}')).toEqual([USERNAME, CLIENTID]);
    expect(parsePlaceholders('$${clientid}')).toEqual(['$', CLIENTID]);
    expect(parsePlaceholders('${other}')).toBeNull();
    expect(parsePlaceholders('plain')).toBeNull();
  });
});

describe('isExpandableValue', () => {
  it.each([
    ['dev-1', true],
    ['$x', true],
    ['', false],
    [null, false],
    [undefined, false],
    ['a/b', false],
    ['a+', false],
    ['#', false],
    ['a\u0000', false],
  ])('%j → %s', (value, expected) => expect(isExpandableValue(value)).toBe(expected));
});

describe('expandRuleTopic', () => {
  it('expands every placeholder once and lists the values used', () => {
    expect(
      expandRuleTopic('u/${username}/c/${clientid}-${username}', { username: 'al', clientid: 'c1' }),
    ).toEqual({
      topic: 'u/al/c/c1-al',
      placeholders: { username: 'al', clientid: 'c1' },
    });
    expect(expandRuleTopic('u/${username}', { username: '${clientid}', clientid: 'c1' })?.topic).toBe(
      'u/${clientid}',
    );
    expect(expandRuleTopic('plain/#', { username: 'al' })).toEqual({ topic: 'plain/#', placeholders: {} });
  });

  it('returns null when a placeholder cannot be expanded', () => {
    expect(expandRuleTopic('c/${clientid}', { username: 'al' })).toBeNull();
    expect(expandRuleTopic('u/${username}', { username: 'a/b' })).toBeNull();
  });
});
