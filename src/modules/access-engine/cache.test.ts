import { describe, expect, it } from 'vitest';
import { CompiledRuleCache } from './cache.js';
import { compileRoles } from './compile.js';

const a = compileRoles([{ name: 'a', rules: [] }]);
const b = compileRoles([{ name: 'b', rules: [] }]);

describe('CompiledRuleCache', () => {
  it('returns an entry only for its exact version, and a new version replaces it', () => {
    const cache = new CompiledRuleCache({ maxEntries: 10 });
    expect(cache.set('user:1', 1, a)).toBe(a);
    expect(cache.get('user:1', 1)).toBe(a);
    expect(cache.get('user:1', 2)).toBeUndefined();
    cache.set('user:1', 2, b);
    expect(cache.get('user:1', 2)).toBe(b);
    expect(cache.get('user:1', 1)).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = new CompiledRuleCache({ maxEntries: 2 });
    cache.set('x', 1, a);
    cache.set('y', 1, a);
    cache.get('x', 1); // y is now the least recently used
    cache.set('z', 1, b);
    expect(cache.get('y', 1)).toBeUndefined();
    expect(cache.get('x', 1)).toBe(a);
    expect(cache.get('z', 1)).toBe(b);
    expect(cache.size).toBe(2);
  });

  it('deletes and clears', () => {
    const cache = new CompiledRuleCache({ maxEntries: 2 });
    cache.set('x', 1, a);
    cache.set('y', 1, a);
    expect(cache.delete('x')).toBe(true);
    expect(cache.delete('x')).toBe(false);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('rejects a size that is not a positive integer', () => {
    expect(() => new CompiledRuleCache({ maxEntries: 0 })).toThrow(RangeError);
    expect(() => new CompiledRuleCache({ maxEntries: 1.5 })).toThrow(RangeError);
  });
});
