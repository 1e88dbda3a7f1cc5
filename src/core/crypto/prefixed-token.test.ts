import { describe, expect, it } from 'vitest';
import { type GeneratedSecret, generateOpaqueSecret } from './generated-secret.js';
import { createKeyedSecretHash } from './keyed-secret-hash.js';
import { prefixedTokenFormat, prefixedTokenVerifier } from './prefixed-token.js';

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

describe('prefixedTokenVerifier', () => {
  const format = prefixedTokenFormat('wdt_', 8);
  const hasher = new KeyedSecretCheck();
  const secret = generateOpaqueSecret(32);
  const issued = format.issue(secret);
  const records = new Map([[issued.id, { id: issued.id, hash: hasher.hashGenerated(secret) }]]);
  const findVerified = prefixedTokenVerifier(format, hasher, 32);
  const find = (presented: string) =>
    findVerified(
      presented,
      async (id) => records.get(id),
      (record) => record.hash,
    );

  it('answers the record a token names when its secret matches', async () => {
    expect(await find(issued.token)).toEqual({ id: issued.id, hash: records.get(issued.id)?.hash });
  });

  it('answers null for a wrong secret, an unknown id or a malformed token — each after one verification', async () => {
    const other = format.issue(generateOpaqueSecret(32));
    for (const presented of [`${issued.token}x`, other.token, 'not-a-token', '']) {
      hasher.verifications = 0;
      expect(await find(presented)).toBeNull();
      expect(hasher.verifications).toBe(1);
    }
  });
});

/** The keyed hash of the credential hasher, counting verifications. */
class KeyedSecretCheck {
  verifications = 0;
  readonly #keyed = createKeyedSecretHash('k'.repeat(32));
  hashGenerated(secret: GeneratedSecret): string {
    return this.#keyed.hash(secret);
  }
  verifyGenerated(record: string, candidate: string): boolean {
    this.verifications += 1;
    return this.#keyed.verify(record, candidate);
  }
}
