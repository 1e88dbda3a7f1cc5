import { describe, expect, it } from 'vitest';
import { generateOpaqueSecret } from './generated-secret.js';
import { prefixedTokenFormat } from './prefixed-token.js';

describe('prefixed tokens', () => {
  const format = prefixedTokenFormat('tst_', 4);

  it('issues <prefix><hex id>_<secret> and parses it back', () => {
    const secret = generateOpaqueSecret(16);
    const { id, token } = format.issue(secret);
    expect(token).toBe(`tst_${id}_${secret}`);
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(format.parse(token)).toEqual({ id, secret });
    expect(format.isId(id)).toBe(true);
  });

  it('a secret may itself contain the separator', () => {
    expect(format.parse('tst_0123abcd_a_b')).toEqual({ id: '0123abcd', secret: 'a_b' });
  });

  it('anything else is no token', () => {
    for (const presented of [
      '',
      'tst_',
      'tst_0123abcd',
      'tst_0123abcd_',
      'tst_0123abc_secret',
      'tst_0123ABCD_secret',
      'tst_0123abcdX_secret',
      'xyz_0123abcd_secret',
      `tst_0123abcd_${'s'.repeat(257)}`,
    ]) {
      expect(format.parse(presented), presented).toBeNull();
    }
    expect(format.isId('0123abc')).toBe(false);
  });
});
