import { describe, expect, it } from 'vitest';
import { safeReturnTo } from './sso-login.return-to.js';

describe('where a sign-in returns to', () => {
  it('keeps paths on this origin, with query and fragment', () => {
    expect(safeReturnTo('/users?page=2#x')).toBe('/users?page=2#x');
    expect(safeReturnTo('/grafana/d/abc')).toBe('/grafana/d/abc');
    expect(safeReturnTo('/a/../b')).toBe('/b');
    // Percent-encoded characters stay encoded: harmless in a Location header.
    expect(safeReturnTo('/%0d%0aSet-Cookie:x')).toBe('/%0d%0aSet-Cookie:x');
  });

  it('sends everything else to /', () => {
    for (const value of [
      undefined,
      '',
      'users',
      'https://evil.example',
      '//evil.example',
      '/\\evil.example',
      '/a b',
      '/a\tb',
      'javascript:alert(1)',
      `/${'a'.repeat(2001)}`,
    ]) {
      expect(safeReturnTo(value), String(value)).toBe('/');
    }
  });
});
