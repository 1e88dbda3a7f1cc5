import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/core/crypto/secret-box.js';

const KEY = randomBytes(32).toString('base64url');

describe('secret box (AES-256-GCM at rest)', () => {
  const box = createSecretBox(KEY);
  const secret = new Uint8Array(randomBytes(20));

  it('round-trips, with a fresh IV every time', () => {
    const a = box.seal(secret, 'totp:u1');
    const b = box.seal(secret, 'totp:u1');
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toBe(b);
    expect(box.open(a, 'totp:u1')).toEqual(secret);
    expect(a).not.toContain(Buffer.from(secret).toString('base64url'));
  });

  it('opens nothing for another context, another key, or after any tampering', () => {
    const sealed = box.seal(secret, 'totp:u1');
    expect(box.open(sealed, 'totp:u2')).toBeNull();
    expect(createSecretBox(randomBytes(32).toString('base64url')).open(sealed, 'totp:u1')).toBeNull();
    const [version, iv, data, tag] = sealed.split('.') as [string, string, string, string];
    const flip = (part: string): string => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString('base64url');
    };
    for (const forged of [
      [version, flip(iv), data, tag],
      [version, iv, flip(data), tag],
      [version, iv, data, flip(tag)],
      ['v2', iv, data, tag],
      [version, iv, data],
    ]) {
      expect(box.open(forged.join('.'), 'totp:u1')).toBeNull();
    }
    expect(box.open('not sealed at all', 'totp:u1')).toBeNull();
  });

  it('refuses a short key', () => {
    expect(() => createSecretBox('short')).toThrow();
  });
});
