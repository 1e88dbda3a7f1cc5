import {
  GENERATED_PASSWORD_LENGTH,
  generatePassword,
  PASSWORD_ALPHABET,
  PASSWORD_DIGITS,
  PASSWORD_SYMBOLS,
  randomToken,
} from './tokens.js';

declare const generated: unique symbol;

/**
 * A secret Warden drew itself (docs/authentication.md#generated-secrets): only {@link generateSecret},
 * {@link generateOpaqueSecret} and {@link recognizeGeneratedSecret} make one, so a password a person chose can never reach the fast hash by
 * mistake — the type system refuses it.
 */
export type GeneratedSecret = string & { readonly [generated]: true };

/**
 * Entropy of a generated secret in bits: 22 uniform characters of a 57-letter alphabet, one of 9 symbols, one of
 * 8 digits (≈ 134.5; requiring an upper- and a lower-case letter among the 22 removes less than 0.001 bit).
 */
export const GENERATED_SECRET_BITS =
  (GENERATED_PASSWORD_LENGTH - 2) * Math.log2(PASSWORD_ALPHABET.length) +
  Math.log2(PASSWORD_SYMBOLS.length) +
  Math.log2(PASSWORD_DIGITS.length);

/** A new secret for a device or service: the same generator as every generated password, ≥ 128 bits. */
export function generateSecret(): GeneratedSecret {
  return generatePassword() as GeneratedSecret;
}

/**
 * A random token of `bytes` bytes (base64url) as a generated secret: for secrets that need no password form,
 * such as the secret part of an API key (docs/api-keys.md). At least 16 bytes, so it is never guessable.
 */
export function generateOpaqueSecret(bytes: number): GeneratedSecret {
  if (bytes < 16) throw new Error('a generated secret has at least 128 random bits');
  return randomToken(bytes) as GeneratedSecret;
}

const BODY = new Set(PASSWORD_ALPHABET);
const SYMBOLS = new Set(PASSWORD_SYMBOLS);
const DIGITS = new Set(PASSWORD_DIGITS);

/**
 * `cleartext` when it has exactly the generator's form — 24 characters: 22 of the unambiguous alphabet with an
 * upper- and a lower-case letter among them, a symbol, a digit — else null. Used only for records stored before
 * Warden marked generated secrets, at their first successful verification: a password a person typed has this
 * form only when it was copied from the generator.
 */
export function recognizeGeneratedSecret(cleartext: string): GeneratedSecret | null {
  if (cleartext.length !== GENERATED_PASSWORD_LENGTH) return null;
  const body = [...cleartext.slice(0, -2)];
  const formed =
    body.every((char) => BODY.has(char)) &&
    SYMBOLS.has(cleartext.at(-2) as string) &&
    DIGITS.has(cleartext.at(-1) as string) &&
    body.some((char) => char >= 'A' && char <= 'Z') &&
    body.some((char) => char >= 'a' && char <= 'z');
  return formed ? (cleartext as GeneratedSecret) : null;
}
