import { decodeProtectedHeader } from 'jose';

/**
 * The longest token accepted (bytes). ID tokens with many group claims run to a few KiB; MQTT allows 64 KiB
 * passwords, and a longer "token" only costs parsing.
 */
export const MAX_TOKEN_BYTES = 16_384;

/** Three base64url segments (the signature may be empty: an unsigned `alg: none` token is recognised, then refused). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * The token in an MQTT password when it has a JWT's shape — three base64url segments whose first decodes to a JSON
 * object naming an `alg` — else null. Costs a regular expression and one small JSON parse, so it runs before any
 * password hashing; a password of that exact shape is practically impossible to choose by accident (it would need
 * two dots and a base64url-encoded JSON object in front), and would be refused as a token.
 */
export function recogniseJwt(password: Buffer): string | null {
  if (password.length > MAX_TOKEN_BYTES) return null;
  // Every JOSE header a signer produces starts with `{"`, which base64url-encodes to `eyJ`.
  if (password[0] !== 0x65 || password[1] !== 0x79 || password[2] !== 0x4a) return null;
  const text = password.toString('latin1');
  if (!COMPACT_JWS.test(text)) return null;
  try {
    return typeof decodeProtectedHeader(text).alg === 'string' ? text : null;
  } catch {
    return null;
  }
}
