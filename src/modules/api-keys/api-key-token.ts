import { randomBytes } from 'node:crypto';
import { type GeneratedSecret, generateOpaqueSecret } from '../../core/crypto/generated-secret.js';

/** Every key starts so, which makes a leaked key recognisable to people and to secret scanners. */
export const API_KEY_PREFIX = 'wdn_';
/** The id: 12 random bytes as hex (the record's primary key, not a secret). */
const ID_BYTES = 12;
/** The secret part: 32 random bytes (256 bits), base64url. */
const SECRET_BYTES = 32;
const FORM = /^wdn_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$/;

/** A new key: its id (shown in lists) and the whole key `wdn_<id>_<secret>` (shown once). */
export function newApiKey(): { id: string; secret: GeneratedSecret; key: string } {
  const id = randomBytes(ID_BYTES).toString('hex');
  const secret = generateOpaqueSecret(SECRET_BYTES);
  return { id, secret, key: `${API_KEY_PREFIX}${id}_${secret}` };
}

/**
 * The id and secret of a presented key, or null when it is not of the exact form (any other length or
 * alphabet): the id finds the record by primary key, the secret is then verified against its keyed hash.
 */
export function parseApiKey(key: string): { id: string; secret: string } | null {
  const match = FORM.exec(key);
  if (!match) return null;
  return { id: match[1] as string, secret: match[2] as string };
}
