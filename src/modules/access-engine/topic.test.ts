// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule topics spell the placeholders ${username} / ${clientid} literally
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  filterCovers,
  filterIntersection,
  filtersIntersect,
  isValidTopicName,
  parseSubscription,
  topicMatches,
  validateRuleTopic,
  validateTopicFilter,
  validateTopicName,
} from './topic.js';

const hundredLevels = Array(100).fill('a').join('/');

describe('validateTopicName', () => {
  it.each(['a', '/', 'a//b', '/a', 'a/', ' ', '$SYS/broker', 'α/😀', hundredLevels, 'x'.repeat(65_535)])(
    'accepts %j',
    (name) => expect(validateTopicName(name)).toBeNull(),
  );

  it.each([
    ['', 'must not be empty'],
    ['a/+', 'wildcards'],
    ['a/#', 'wildcards'],
    ['a+b', 'wildcards'],
    ['a\u0000b', 'U+0000'],
    ['x\ud800', 'lone surrogate'],
    ['\udc00x', 'lone surrogate'],
    [`${hundredLevels}/a`, '100 levels'],
    ['x'.repeat(65_536), '65535 UTF-8 bytes'],
    ['€'.repeat(21_846), '65535 UTF-8 bytes'],
    ['😀'.repeat(16_384), '65535 UTF-8 bytes'],
  ])('rejects %j', (name, message) => expect(validateTopicName(name)).toContain(message));

  it('counts UTF-8 bytes, not UTF-16 units', () => {
    expect(validateTopicName('€'.repeat(21_845))).toBeNull(); // 65535 bytes
    expect(validateTopicName(`${'😀'.repeat(16_383)}abc`)).toBeNull(); // 65535 bytes
  });
});

describe('validateTopicFilter', () => {
  it.each(['#', '+', 'a/#', '+/+', '/+', '+/', 'a/+/b/#', '$SYS/#', '$share/g/a/#', '$share/g/#', '$share'])(
    'accepts %j',
    (filter) => expect(validateTopicFilter(filter)).toBeNull(),
  );

  it.each([
    ['', 'must not be empty'],
    ['a/#/b', "'#'"],
    ['a#', "'#'"],
    ['#a', "'#'"],
    ['a+', "'+'"],
    ['+a/b', "'+'"],
    ['a\u0000', 'U+0000'],
    ['$share/g', 'followed by a filter'],
    ['$share/g/', 'followed by a filter'],
    ['$share//a', 'group'],
    ['$share/+/a', 'group'],
    ['$share/g+/a', "'+'"],
  ])('rejects %j', (filter, message) => expect(validateTopicFilter(filter)).toContain(message));

  it('splits shared subscriptions into group and filter', () => {
    expect(parseSubscription('$share/g1/a/+/#')).toEqual({ ok: true, group: 'g1', filter: 'a/+/#' });
    expect(parseSubscription('$share/g1/$share/g2/x')).toEqual({
      ok: true,
      group: 'g1',
      filter: '$share/g2/x',
    });
    expect(parseSubscription('a/b')).toEqual({ ok: true, group: null, filter: 'a/b' });
  });
});

describe('validateRuleTopic', () => {
  it.each([
    'dt/${username}/+/up',
    'dt/${username}-x/up',
    'cmd/${clientid}/#',
    '${username}${clientid}',
    '$${username}',
    '#',
  ])('accepts %j', (topic) => expect(validateRuleTopic(topic)).toBeNull());

  it.each([
    ['${user}/a', 'unknown placeholder'],
    ['a/${username', 'unknown placeholder'],
    ['${username}+', "'+'"],
    ['a/#/${clientid}', "'#'"],
    ['$share/g/a', '$share'],
    ['$share', '$share'],
    ['', 'must not be empty'],
  ])('rejects %j', (topic, message) => expect(validateRuleTopic(topic)).toContain(message));
});

describe('topicMatches (MQTT §4.7)', () => {
  it.each([
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'ab', false],
    ['a/+', 'a/', true],
    ['a/+', 'a', false],
    ['a/+', 'a/b/c', false],
    ['+/+', '/', true],
    ['/+', 'a/b', false],
    ['#', '/', true],
    ['A', 'a', false],
    ['#', '$SYS/x', false],
    ['+/x', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
    ['$SYS/+', '$SYS/x', true],
  ])('%j matches %j: %s', (filter, name, expected) => expect(topicMatches(filter, name)).toBe(expected));
});

describe('filterCovers / filtersIntersect', () => {
  it.each([
    ['a/#', 'a', true],
    ['a/#', 'a/b', true],
    ['a/#', 'a/+/c', true],
    ['a/#', 'a/#', true],
    ['a/+', 'a/#', false],
    ['a/+', 'a/+', true],
    ['a/b', 'a/+', false],
    ['#', '$x/#', false],
    ['$x/#', '$x/#', true],
    ['+/#', '#', true], // `#` has no parent name
    ['/+/#', '/#', true], // nor has `/#`: the empty string is no name
    ['+/+/#', '#', false],
    ['a/+/#', 'a/#', false],
  ])('%j covers %j: %s', (filter, other, expected) => expect(filterCovers(filter, other)).toBe(expected));

  it.each([
    ['a/+', 'a/#', true],
    ['a/b', 'a/#', true],
    ['a', 'a/#', true],
    ['a/b', '+/c', false],
    ['#', '$x', false],
    ['+/#', '$x/+', false],
    ['$x/#', '$x/+', true],
    ['+', '/#', false], // they share only the empty string, which is no name
    ['+', '+/#', true],
  ])('%j meets %j: %s', (a, b, expected) => {
    expect(filtersIntersect(a, b)).toBe(expected);
    expect(filtersIntersect(b, a)).toBe(expected);
  });
});

describe('filterIntersection', () => {
  it.each([
    ['a/#', 'a/+', 'a/+'],
    ['a/#', 'a', 'a'],
    ['+/b', 'a/+', 'a/b'],
    ['a/+/#', 'a/#', 'a/+/#'],
    ['a/b/#', 'a/+/c', 'a/b/c'],
    ['#', '#', '#'],
    ['#', 'test/nosubscribe', 'test/nosubscribe'],
    ['#', '$SYS/x', null],
    ['$x/#', '$x/+', '$x/+'],
    ['+', '/#', null],
    ['a/b', 'a/c', null],
    ['a', 'a/+', null],
  ])('%j and %j: %j', (a, b, expected) => {
    expect(filterIntersection(a, b)).toBe(expected);
    expect(filterIntersection(b, a)).toBe(expected);
  });
});

// Properties over a small alphabet so that filters and names collide often.
const level = fc.constantFrom('a', 'b', '', '$x', '$SYS', 'α');
const name = fc
  .array(level, { minLength: 1, maxLength: 5 })
  .map((levels) => levels.join('/'))
  .filter((text) => text !== '');
const filter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant('+')), { minLength: 0, maxLength: 4 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
  .filter((text) => text !== '');

/** An independent translation of a filter into a regular expression, with the `$` rule of MQTT-4.7.2-1. */
function regexMatches(filterText: string, nameText: string): boolean {
  if (/^[+#]/.test(filterText) && nameText.startsWith('$')) return false;
  const parts = filterText.split('/');
  const hash = parts.at(-1) === '#';
  const prefix = (hash ? parts.slice(0, -1) : parts)
    .map((part) => (part === '+' ? '[^/]*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  const source = !hash ? prefix : parts.length === 1 ? '.*' : `${prefix}(/.*)?`;
  return new RegExp(`^${source}$`, 's').test(nameText);
}

describe('topic matcher properties', () => {
  it('matches a name exactly when a regular expression says so', () => {
    fc.assert(
      fc.property(filter, name, (f, n) => topicMatches(f, n) === regexMatches(f, n)),
      { numRuns: 20_000, seed: 1 },
    );
  });

  it('never lets a filter starting with + or # match a $ name', () => {
    const wildcardFirst = filter.filter((f) => f.startsWith('+') || f.startsWith('#'));
    const dollarName = name.map((n) => `$${n}`);
    fc.assert(
      fc.property(wildcardFirst, dollarName, (f, n) => !topicMatches(f, n)),
      { numRuns: 5_000, seed: 2 },
    );
  });

  it('covers(a, b): every name b matches, a matches too', () => {
    fc.assert(
      fc.property(filter, filter, fc.array(name, { minLength: 20, maxLength: 20 }), (a, b, names) => {
        if (!filterCovers(a, b)) return true;
        return names.every((n) => !topicMatches(b, n) || topicMatches(a, n));
      }),
      { numRuns: 20_000, seed: 3 },
    );
  });

  it('covers(a, b) is reflexive and implies intersects(a, b)', () => {
    fc.assert(
      fc.property(
        filter,
        filter,
        (a, b) => filterCovers(a, a) && (!filterCovers(a, b) || filtersIntersect(a, b)),
      ),
      { numRuns: 20_000, seed: 4 },
    );
  });

  it('intersects(a, b) is symmetric and true whenever some name matches both', () => {
    fc.assert(
      fc.property(filter, filter, name, (a, b, n) => {
        const meets = filtersIntersect(a, b);
        if (meets !== filtersIntersect(b, a)) return false;
        return meets || !(topicMatches(a, n) && topicMatches(b, n));
      }),
      { numRuns: 20_000, seed: 5 },
    );
  });

  it('intersection(a, b) matches exactly the names both match, and is null when they do not meet', () => {
    fc.assert(
      fc.property(filter, filter, fc.array(name, { minLength: 20, maxLength: 20 }), (a, b, names) => {
        const both = filterIntersection(a, b);
        if (both === null) return !filtersIntersect(a, b);
        return (
          validateTopicFilter(both) === null &&
          names.every((n) => topicMatches(both, n) === (topicMatches(a, n) && topicMatches(b, n)))
        );
      }),
      { numRuns: 20_000, seed: 9 },
    );
  });

  it('finds a witness name whenever a filter does not cover another', () => {
    // the most specific names of b: wildcards replaced by a fresh level, '#' by the parent or 1..3 levels
    const witnesses = (b: string): string[] => {
      const levels = b.split('/').map((part) => (part === '+' ? 'fresh' : part));
      if (levels.at(-1) !== '#') return [levels.join('/')];
      const prefix = levels.slice(0, -1);
      return [
        prefix,
        [...prefix, 'fresh'],
        [...prefix, 'fresh', 'fresh'],
        [...prefix, 'fresh', 'fresh', 'fresh'],
      ]
        .map((parts) => parts.join('/'))
        .filter((text) => text !== '');
    };
    fc.assert(
      fc.property(filter, filter, (a, b) => {
        const uncovered = witnesses(b).some((n) => !topicMatches(a, n));
        return filterCovers(a, b) === !uncovered;
      }),
      { numRuns: 20_000, seed: 6 },
    );
  });

  it('has a hot-path name check that agrees with validateTopicName', () => {
    const unit = fc.constantFrom('a', '/', '+', '#', '\u0000', '€', '\ud83d', '\ude00', '😀', '$');
    const text = fc.array(unit, { maxLength: 120 }).map((units) => units.join(''));
    fc.assert(
      fc.property(text, (t) => isValidTopicName(t) === (validateTopicName(t) === null)),
      { numRuns: 20_000, seed: 8 },
    );
    expect(isValidTopicName(`${hundredLevels}/a`)).toBe(false);
  });

  it('accepts every generated name and filter, rejects names with wildcards', () => {
    fc.assert(
      fc.property(name, filter, (n, f) => {
        return (
          validateTopicName(n) === null &&
          validateTopicFilter(f) === null &&
          (validateTopicName(f) === null) === !/[+#]/.test(f)
        );
      }),
      { numRuns: 5_000, seed: 7 },
    );
  });
});
