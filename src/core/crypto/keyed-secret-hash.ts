import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { GeneratedSecret } from './generated-secret.js';

/** Every record of this hash starts so; the rest is `<salt>$<mac>`, both base64url. */
export const KEYED_HASH_PREFIX = '$warden-hmac-sha256$v=1$';
const SALT_BYTES = 16;
const MAC_BYTES = 32;

/**
 * The hash of secrets Warden generated (≥ 128 random bits, docs/authentication.md#generated-secrets):
 * HMAC-SHA256 under a key derived from the secret key, over a per-record salt and the secret. Nobody can guess
 * such a secret, so a memory-hard hash would only cost time at every device CONNECT; the key, which is not in
 * the database, keeps a leaked table from being checked offline at all.
 */
export interface KeyedSecretHash {
  /** `$warden-hmac-sha256$v=1$<salt>$<mac>`, with a fresh random salt. */
  hash(secret: GeneratedSecret): string;
  /**
   * Whether `candidate` is the secret of `record` (false for a record of any other form). The MAC is always
   * computed and compared in constant time, so a wrong candidate costs what a right one does.
   */
  verify(record: string, candidate: string): boolean;
}

export function isKeyedHashRecord(record: string): boolean {
  return record.startsWith(KEYED_HASH_PREFIX);
}

/**
 * Derives the HMAC key from Warden's secret key with HKDF-SHA256 under its own label, so it is independent of
 * the keys the same secret yields elsewhere (the secret box, the MQTT credential cache).
 */
export function createKeyedSecretHash(secretKey: string): KeyedSecretHash {
  const key = Buffer.from(hkdfSync('sha256', secretKey, '', 'warden/generated-secret-hash/v1', MAC_BYTES));
  const mac = (salt: Buffer, secret: string): Buffer =>
    createHmac('sha256', key).update(salt).update(secret, 'utf8').digest();

  return {
    hash(secret) {
      const salt = randomBytes(SALT_BYTES);
      return `${KEYED_HASH_PREFIX}${salt.toString('base64url')}$${mac(salt, secret).toString('base64url')}`;
    },

    verify(record, candidate) {
      if (!isKeyedHashRecord(record)) return false;
      const [salt, expected, ...rest] = record
        .slice(KEYED_HASH_PREFIX.length)
        .split('$')
        .map((part) => Buffer.from(part, 'base64url'));
      if (
        !salt ||
        !expected ||
        rest.length > 0 ||
        salt.length !== SALT_BYTES ||
        expected.length !== MAC_BYTES
      ) {
        return false;
      }
      return timingSafeEqual(mac(salt, candidate), expected);
    },
  };
}
