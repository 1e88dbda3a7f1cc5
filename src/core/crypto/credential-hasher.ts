import type { GeneratedSecret } from './generated-secret.js';
import { createKeyedSecretHash, isKeyedHashRecord, type KeyedSecretHash } from './keyed-secret-hash.js';
import type { PasswordHasher } from './password-hasher.js';

/** How a stored credential was hashed, read from the record itself. */
export type HashScheme = 'argon2id' | 'keyed';

/**
 * The two ways Warden stores a credential (docs/authentication.md#generated-secrets), behind one door:
 * a password a person chose goes through argon2id ({@link hash}); a secret Warden generated through the
 * keyed fast hash ({@link hashGenerated}, which only takes a {@link GeneratedSecret}). A record says which it
 * is and is verified by that method only: a keyed record never reaches argon2 and an argon2 record never the
 * keyed hash, whatever the candidate.
 */
export class CredentialHasher {
  readonly #keyed: KeyedSecretHash;

  constructor(
    private readonly argon2: PasswordHasher,
    secretKey: string,
  ) {
    this.#keyed = createKeyedSecretHash(secretKey);
  }

  /** The argon2 pool's load. */
  get stats(): PasswordHasher['stats'] {
    return this.argon2.stats;
  }

  /** Throws 503 `server.busy` when an argon2 verification started now would be refused. */
  assertCapacity(): void {
    this.argon2.assertCapacity();
  }

  /**
   * argon2id: for every password a person typed, whatever kind of user it belongs to, and a person's generated
   * one-time password.
   */
  hash(password: string): Promise<string> {
    return this.argon2.hash(password);
  }

  /** The keyed fast hash: only for secrets Warden generated itself. */
  hashGenerated(secret: GeneratedSecret): string {
    return this.#keyed.hash(secret);
  }

  /**
   * Verifies a candidate against a keyed record only, synchronously (microseconds): for credentials that are
   * always generated (API keys), so no record of any other form — and never argon2 — is consulted.
   */
  verifyGenerated(record: string, candidate: string): boolean {
    return this.#keyed.verify(record, candidate);
  }

  schemeOf(record: string): HashScheme | null {
    if (isKeyedHashRecord(record)) return 'keyed';
    if (record.startsWith('$argon2id$')) return 'argon2id';
    return null;
  }

  /** Verifies by the record's own scheme; a record of no known scheme verifies nothing. */
  async verify(record: string, candidate: string): Promise<boolean> {
    switch (this.schemeOf(record)) {
      case 'keyed':
        return this.#keyed.verify(record, candidate);
      case 'argon2id':
        return this.argon2.verify(record, candidate);
      default:
        return false;
    }
  }

  /**
   * The stand-in verification for an unknown, inactive or password-less user: always argon2id, the cost of the
   * most expensive real record, so that no person's account can be told from a name that does not exist
   * (docs/authentication.md#unknown-users). Always false.
   */
  verifyDummy(candidate: string): Promise<false> {
    return this.argon2.verifyDummy(candidate);
  }
}
