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

/** The characters of a generated password's body: letters and digits without look-alikes (0/O, 1/l/I). */
export const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
/** One of these comes second to last, so that a generated password meets a "special character" rule. */
export const PASSWORD_SYMBOLS = '!#%+-=?@_';
/** The last character: a digit, for a "digit" rule. */
export const PASSWORD_DIGITS = '23456789';
export const GENERATED_PASSWORD_LENGTH = 24;

/**
 * A generated password that satisfies the default policy: 24 characters from an unambiguous alphabet,
 * always including upper, lower, digit and symbol. Rejection sampling keeps the choice uniform.
 */
export function generatePassword(length = GENERATED_PASSWORD_LENGTH): string {
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
    out += pick(PASSWORD_SYMBOLS) + pick(PASSWORD_DIGITS);
    if (/[A-Z]/.test(out) && /[a-z]/.test(out)) return out;
  }
}
