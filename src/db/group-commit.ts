import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * Group commit: small units of work submitted at the same time share one transaction, applied one after the
 * other in submission order — each sees the writes of those before it, exactly as if they had committed one by
 * one — and each submitter's promise settles only once that transaction has committed (or rejects with its
 * error, for every unit in it). While one transaction commits, the next units queue up, so under load a commit
 * (a disk sync on SQLite with `synchronous = FULL`, and on PostgreSQL) is paid once per batch rather than once
 * per unit; alone, a unit commits at once. A unit reports an expected refusal in its result; only an
 * unexpected error should throw, and it fails the whole batch.
 */
export class GroupCommit<T, R> {
  readonly #queue: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  #flushing = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly apply: (trx: Transaction<Database>, item: T) => Promise<R>,
    private readonly maxBatch = 256,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.maxBatch);
        try {
          const results = await this.db.transaction().execute(async (trx) => {
            const out: R[] = [];
            for (const { item } of batch) out.push(await this.apply(trx, item));
            return out;
          });
          for (const [i, unit] of batch.entries()) unit.resolve(results[i] as R);
        } catch (error) {
          for (const unit of batch) unit.reject(error);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}
