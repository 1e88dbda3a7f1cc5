import { pbkdf2Sync, randomBytes } from 'node:crypto';

/** Mosquitto 2.0's default iteration count, the value its own tools write. */
export const DYNSEC_ITERATIONS = 101;
const SALT_BYTES = 12;
const KEY_BYTES = 64;

/**
 * A client password as dynamic-security.json stores it (docs/broker-protocols.md#dynsec-password-records):
 * PBKDF2-HMAC-SHA512 over a 12-byte salt, 64-byte key, both standard base64. The plugin skips a client whose
 * record does not decode to exactly 12 / 64 bytes.
 */
export interface DynsecPasswordRecord {
  /** base64 of the 64-byte derived key (88 characters). */
  readonly password: string;
  /** base64 of the 12 salt bytes (16 characters). */
  readonly salt: string;
  readonly iterations: number;
}

/**
 * Derives the record Mosquitto would store for `password`. The salt is random unless given (tests pass a
 * known test vector). Mosquitto's own choice of 101 iterations is weak, so Warden keeps these records
 * only sealed at rest and writes them only into an exported file.
 */
export function hashDynsecPassword(
  password: string,
  salt: Buffer = randomBytes(SALT_BYTES),
): DynsecPasswordRecord {
  if (salt.length !== SALT_BYTES) throw new Error(`a dynsec salt is ${SALT_BYTES} bytes`);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, DYNSEC_ITERATIONS, KEY_BYTES, 'sha512');
  return { password: key.toString('base64'), salt: salt.toString('base64'), iterations: DYNSEC_ITERATIONS };
}

/** Whether `value` has the shape Mosquitto's loader accepts (used when reading a stored record back). */
export function isDynsecPasswordRecord(value: unknown): value is DynsecPasswordRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.password === 'string' &&
    typeof record.salt === 'string' &&
    Number.isInteger(record.iterations) &&
    (record.iterations as number) >= 1 &&
    Buffer.from(record.password, 'base64').length === KEY_BYTES &&
    Buffer.from(record.salt, 'base64').length === SALT_BYTES
  );
}
