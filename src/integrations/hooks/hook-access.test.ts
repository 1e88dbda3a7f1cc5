import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../core/net/address-list.js';
import { HookAccessCheck, LOOPBACK_CIDRS } from './hook-access.js';

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('HookAccessCheck', () => {
  const check = new HookAccessCheck({
    token: 'token-0123456789abcdef',
    basic: { username: 'broker', password: 'pass word:with colon' },
    allowFrom: [...LOOPBACK_CIDRS, '10.1.0.0/16'],
  });

  it('admits the configured bearer token and basic credential', () => {
    expect(check.verdict('192.0.2.1', 'Bearer token-0123456789abcdef')).toBe('credential');
    expect(check.verdict('192.0.2.1', 'bearer   token-0123456789abcdef')).toBe('credential');
    expect(check.verdict('192.0.2.1', basic('broker', 'pass word:with colon'))).toBe('credential');
  });

  it('refuses any other credential, even from an allowed network', () => {
    for (const header of [
      'Bearer token-0123456789abcdeF',
      'Bearer',
      'Token token-0123456789abcdef',
      basic('broker', 'x'),
      'garbage',
    ]) {
      expect(check.verdict('127.0.0.1', header)).toBe('bad_credential');
    }
  });

  it('admits allowed networks without a credential (IPv4, IPv6, IPv4-mapped), nothing else', () => {
    expect(check.verdict('127.0.0.1', undefined)).toBe('address');
    expect(check.verdict('::1', undefined)).toBe('address');
    expect(check.verdict('::ffff:127.0.0.1', undefined)).toBe('address');
    expect(check.verdict('10.1.200.3', '')).toBe('address');
    expect(check.verdict('10.2.0.1', undefined)).toBe('refused');
    expect(check.verdict('not-an-ip', undefined)).toBe('refused');
    // Verdicts are cached per address; the answer stays the same.
    expect(check.verdict('10.2.0.1', undefined)).toBe('refused');
  });

  it('without a configured credential only the address counts', () => {
    const open = new HookAccessCheck({ token: null, basic: null, allowFrom: [] });
    expect(open.verdict('127.0.0.1', undefined)).toBe('refused');
    expect(open.verdict('127.0.0.1', 'Bearer anything')).toBe('bad_credential');
  });

  it('parses CIDRs and bare addresses, refuses anything else', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('2001:db8::/32')).toEqual({ address: '2001:db8::', prefix: 32, family: 'ipv6' });
    expect(parseCidr('192.0.2.4')).toEqual({ address: '192.0.2.4', prefix: 32, family: 'ipv4' });
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0.0/',
      '10.0.0/8',
      'x/8',
      '10.0.0.0/8/1',
      '::1/129',
      '10.0.0.0/-1',
    ]) {
      expect(parseCidr(bad)).toBeNull();
    }
  });
});
