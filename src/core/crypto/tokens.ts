import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url: opaque tokens (session secrets, recovery codes' entropy). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Compares two equal-format strings without leaking where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
const PASSWORD_SYMBOLS = '!#%+-=?@_';

/**
 * A generated password that satisfies the default policy: 24 characters from an unambiguous alphabet,
 * always including upper, lower, digit and symbol. Rejection sampling keeps the choice uniform.
 */
export function generatePassword(length = 24): string {
  const pick = (alphabet: string): string => {
    const limit = 256 - (256 % alphabet.length);
    for (;;) {
      const byte = randomBytes(1)[0] as number;
      if (byte < limit) return alphabet[byte % alphabet.length] as string;
    }
  };
  for (;;) {
    let out = '';
    for (let i = 0; i < length - 2; i += 1) out += pick(PASSWORD_ALPHABET);
    out += pick(PASSWORD_SYMBOLS) + pick('23456789');
    if (/[A-Z]/.test(out) && /[a-z]/.test(out)) return out;
  }
}
