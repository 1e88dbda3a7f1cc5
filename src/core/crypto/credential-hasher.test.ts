import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CredentialHasher } from './credential-hasher.js';
import {
  GENERATED_SECRET_BITS,
  type GeneratedSecret,
  generateSecret,
  recognizeGeneratedSecret,
} from './generated-secret.js';
import { KEYED_HASH_PREFIX } from './keyed-secret-hash.js';
import { PasswordHasher } from './password-hasher.js';
import { generatePassword } from './tokens.js';

/** The argon2 pool, counting the verifications that reach it. */
class CountingArgon2 extends PasswordHasher {
  verifications = 0;
  override verify(passwordHash: string, password: string): Promise<boolean> {
    this.verifications += 1;
    return super.verify(passwordHash, password);
  }
}

const FAST_ARGON2 = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const key = (): string => randomBytes(32).toString('base64url');

function hashers(secretKey = key()): { argon2: CountingArgon2; credentials: CredentialHasher } {
  const argon2 = new CountingArgon2({ params: FAST_ARGON2 });
  return { argon2, credentials: new CredentialHasher(argon2, secretKey) };
}

describe('generated secrets', () => {
  it('carry at least 128 random bits', () => {
    expect(GENERATED_SECRET_BITS).toBeGreaterThanOrEqual(128);
  });

  it("are recognized by their form: every generated one, and no string outside the generator's form", () => {
    for (let i = 0; i < 200; i++) {
      const secret = generateSecret();
      expect(recognizeGeneratedSecret(secret)).toBe(secret);
    }
    const sample = generatePassword();
    const refused = [
      'Str0ng-Passw0rd!', // a typical typed password
      sample.slice(1), // 23 characters
      `${sample}A`, // 25 characters
      `0${sample.slice(1)}`, // a look-alike the alphabet leaves out
      `l${sample.slice(1)}`,
      `${sample.slice(0, 22)}A${sample.at(-1)}`, // no symbol second to last
      `${sample.slice(0, 23)}x`, // no digit last
      `${'a'.repeat(22)}!2`, // no upper-case letter
      `${'A'.repeat(22)}!2`, // no lower-case letter
      `é${sample.slice(1)}`, // outside ASCII
    ];
    for (const candidate of refused) expect(recognizeGeneratedSecret(candidate), candidate).toBeNull();
  });
});

describe('the credential hasher', () => {
  it('stores a generated secret under the keyed hash: self-describing, salted, verified in constant time', async () => {
    const { argon2, credentials } = hashers();
    const secret = generateSecret();
    const record = credentials.hashGenerated(secret);
    expect(record.startsWith(KEYED_HASH_PREFIX)).toBe(true);
    expect(credentials.schemeOf(record)).toBe('keyed');
    expect(record).not.toContain(secret);
    expect(credentials.hashGenerated(secret)).not.toBe(record); // a fresh salt each time
    expect(await credentials.verify(record, secret)).toBe(true);
    expect(await credentials.verify(record, generateSecret())).toBe(false);
    expect(await credentials.verify(record, `${secret}x`)).toBe(false);
    expect(await credentials.verify(record, '')).toBe(false);
    expect(argon2.verifications).toBe(0);
  });

  it('stores a chosen password with argon2id', async () => {
    const { credentials } = hashers();
    const record = await credentials.hash('Str0ng-Passw0rd!');
    expect(record.startsWith('$argon2id$')).toBe(true);
    expect(credentials.schemeOf(record)).toBe('argon2id');
    expect(await credentials.verify(record, 'Str0ng-Passw0rd!')).toBe(true);
  });

  it('derives its key from the secret key under its own label: another key, or a copied MAC, verifies nothing', async () => {
    const secretKey = key();
    const secret = generateSecret();
    const record = hashers(secretKey).credentials.hashGenerated(secret);
    expect(await hashers(secretKey).credentials.verify(record, secret)).toBe(true);
    expect(await hashers(key()).credentials.verify(record, secret)).toBe(false);
    // Tampered records: another salt, a truncated MAC, a part too many.
    const [salt, mac] = record.slice(KEYED_HASH_PREFIX.length).split('$') as [string, string];
    const { credentials } = hashers(secretKey);
    const otherSalt = randomBytes(16).toString('base64url');
    expect(await credentials.verify(`${KEYED_HASH_PREFIX}${otherSalt}$${mac}`, secret)).toBe(false);
    expect(await credentials.verify(`${KEYED_HASH_PREFIX}${salt}$${mac.slice(0, -4)}`, secret)).toBe(false);
    expect(await credentials.verify(`${record}$${mac}`, secret)).toBe(false);
  });

  it('verifies a record by its own scheme only: a keyed record never reaches argon2, an argon2 record never the keyed hash', async () => {
    const { argon2, credentials } = hashers();
    const secret = generateSecret();
    const argon2Record = await credentials.hash(secret);
    const keyedRecord = credentials.hashGenerated(secret);
    // An argon2 record dressed as a keyed one: parsed as keyed, refused, argon2 never asked.
    expect(await credentials.verify(`${KEYED_HASH_PREFIX}${argon2Record}`, secret)).toBe(false);
    expect(argon2.verifications).toBe(0);
    // A keyed record dressed as an argon2 one: handed to argon2 (its scheme), which refuses it.
    expect(await credentials.verify(`$argon2id$${keyedRecord.slice(KEYED_HASH_PREFIX.length)}`, secret)).toBe(
      false,
    );
    expect(argon2.verifications).toBe(1);
    // The genuine records verify, each through its own method.
    expect(await credentials.verify(keyedRecord, secret)).toBe(true);
    expect(argon2.verifications).toBe(1);
    expect(await credentials.verify(argon2Record, secret)).toBe(true);
    expect(argon2.verifications).toBe(2);
    // A record of no known scheme verifies nothing.
    expect(await credentials.verify('$2b$10$abcdefghijklmnopqrstuv', secret)).toBe(false);
    expect(argon2.verifications).toBe(2);
  });

  it('verifies unknown users against argon2id whatever the candidate looks like', async () => {
    const { argon2, credentials } = hashers();
    expect(await credentials.verifyDummy(generateSecret() as GeneratedSecret)).toBe(false);
    expect(await credentials.verifyDummy('Str0ng-Passw0rd!')).toBe(false);
    expect(argon2.verifications).toBe(2);
  });
});
