import { describe, expect, it } from 'vitest';
import { returnToFromSearch } from '../../web/src/pages/login/return-to.js';

const ORIGIN = 'https://apps.example.com';
const returnTo = (search: string) => returnToFromSearch(search, ORIGIN);

describe('the login page returnTo parameter (docs/forward-auth.md)', () => {
  it('takes the rest of the query as nginx appends $request_uri, query and & included', () => {
    expect(returnTo('?returnTo=/grafana/d/abc?orgId=1&from=now-1h')).toBe(
      '/grafana/d/abc?orgId=1&from=now-1h',
    );
    expect(returnTo('?lang=de&returnTo=/app/a%20b')).toBe('/app/a%20b');
    expect(returnTo('?returnTo=/')).toBe('/');
  });

  it('decodes a percent-encoded value once', () => {
    expect(returnTo(`?returnTo=${encodeURIComponent('/grafana/?x=1&y=2')}`)).toBe('/grafana/?x=1&y=2');
  });

  it.each([
    '?returnTo=//evil.example/x',
    '?returnTo=/\\evil.example',
    '?returnTo=%2F%2Fevil.example',
    '?returnTo=%2F%5Cevil.example',
    '?returnTo=https://evil.example/',
    '?returnTo=javascript:alert(1)',
    '?returnTo=evil.example',
    '?returnTo=%2Fa%0d%0a',
    '?returnTo=/a b',
    '?returnTo=/a\tb',
    '?returnTo=',
    '?from=/x',
    '',
    '?returnTo=%E0%A4%A',
  ])('refuses %j', (search) => {
    expect(returnTo(search)).toBeNull();
  });
});
