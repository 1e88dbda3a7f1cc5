import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { BoundedExecutor, QueueFullError } from '../concurrency.js';
import { coreError } from '../errors/core-errors.js';

/** OWASP's argon2id baseline (docs/authentication.md#password-hashing). */
export const ARGON2_PARAMS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
/** `Algorithm.Argon2id` of @node-rs/argon2 (a const enum, which isolated modules cannot import). */
const ARGON2ID = 2;
/** The longest password accepted anywhere; longer input is refused, never truncated. */
export const MAX_PASSWORD_LENGTH = 128;

export interface PasswordHasherOptions {
  /** Hashes in flight at once; defaults to the number of cores. */
  concurrency?: number;
  /** Verifications allowed to wait for a slot before new ones get 503. */
  maxQueue?: number;
  /** Lower costs for bulk test fixtures only; production always uses {@link ARGON2_PARAMS}. */
  params?: { memoryCost: number; timeCost: number; parallelism: number };
}

function busy(): Error {
  return coreError('server.busy', 'Too many sign-ins at once, retry shortly', {
    headers: { 'retry-after': '1' },
  });
}

/**
 * argon2id behind a bounded executor: never more hashes in flight than cores, a bounded queue, and 503
 * `server.busy` beyond it, so a login flood cannot starve the rest of the API.
 */
export class PasswordHasher {
  private readonly executor: BoundedExecutor;
  private readonly params: { memoryCost: number; timeCost: number; parallelism: number };
  private dummyHash: Promise<string> | null = null;
  /** Verifications refused with `server.busy` since start (the metrics' `refused`). */
  private refused = 0;

  constructor(options: PasswordHasherOptions = {}) {
    const concurrency = options.concurrency ?? availableParallelism();
    this.executor = new BoundedExecutor(concurrency, options.maxQueue ?? concurrency * 32);
    this.params = options.params ?? ARGON2_PARAMS;
  }

  get stats(): { inFlight: number; queued: number; concurrency: number; refused: number } {
    return {
      inFlight: this.executor.inFlight,
      queued: this.executor.queued,
      concurrency: this.executor.concurrency,
      refused: this.refused,
    };
  }

  /**
   * Throws 503 `server.busy` when a verification started now would be refused (every slot busy, queue full), so
   * a caller can refuse before doing any other work for a request that cannot be served.
   */
  assertCapacity(): void {
    const { executor } = this;
    if (executor.inFlight >= executor.concurrency && executor.queued >= executor.maxQueue) {
      this.refused += 1;
      throw busy();
    }
  }

  hash(password: string): Promise<string> {
    return this.bounded(() => hash(password, { ...this.params, algorithm: ARGON2ID }));
  }

  verify(passwordHash: string, password: string): Promise<boolean> {
    return this.bounded(async () => {
      try {
        return await verify(passwordHash, password);
      } catch {
        // A malformed stored hash must read as "wrong password", never as a 500 that reveals the account.
        return false;
      }
    });
  }

  /**
   * Verifies against a fixed dummy hash so that a login for an unknown or inactive user costs the same time
   * as a real one (no user enumeration by timing). Always false.
   */
  async verifyDummy(password: string): Promise<false> {
    this.dummyHash ??= hash('warden-dummy-password', { ...this.params, algorithm: ARGON2ID });
    await this.verify(await this.dummyHash, password);
    return false;
  }

  private async bounded<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await this.executor.run(task);
    } catch (error) {
      if (error instanceof QueueFullError) {
        this.refused += 1;
        throw busy();
      }
      throw error;
    }
  }
}
