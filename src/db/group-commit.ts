import { performance } from 'node:perf_hooks';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * After a batch whose commit took `c` ms, the next one starts no sooner than `c` × this later (unless a full
 * batch is waiting), so that committing takes at most about a fifth of the time however slow the disk is.
 */
const PAUSE_PER_COMMIT = 4;
/** The longest such pause: what a lone unit may wait beyond its own transaction. */
const MAX_PAUSE_MS = 20;

export interface GroupCommitOptions<T, R, C> {
  /** Runs once at the start of each batch's transaction; its result is handed to every unit of the batch. */
  readonly prepare: (trx: Transaction<Database>) => Promise<C>;
  /** One unit's work in the batch's transaction. */
  readonly apply: (trx: Transaction<Database>, item: T, prepared: C) => Promise<R>;
  /** Most units in one transaction. */
  readonly maxBatch?: number;
}

/**
 * Group commit: small units of work submitted at about the same time share one transaction, applied one after
 * the other in submission order — each sees the writes of those before it, exactly as if they had committed one
 * by one — and each submitter's promise settles only once that transaction has committed (or rejects with its
 * error, for every unit in it). A commit is a disk sync (SQLite with `synchronous = FULL`, PostgreSQL), and on
 * SQLite it blocks the event loop: paid once per unit under load, it would leave little time to accept the
 * connections that bring the next units, and a slow disk would stall them all. So a batch starts after a pause
 * proportional to how long the previous commit took (next to none on a fast disk), during which the units
 * arriving meanwhile queue up and then share one commit. A unit reports an expected refusal in its result; only
 * an unexpected error should throw, and it fails its whole batch.
 */
export class GroupCommit<T, R, C> {
  readonly #queue: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  readonly #maxBatch: number;
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  /** Earliest start of the next batch (performance.now() ms). */
  #notBefore = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: GroupCommitOptions<T, R, C>,
  ) {
    this.#maxBatch = options.maxBatch ?? 256;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#running) return;
    const full = this.#queue.length >= this.#maxBatch;
    if (this.#timer !== null && !full) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => void this.#flush(),
      full ? 0 : Math.max(0, this.#notBefore - performance.now()),
    );
  }

  async #flush(): Promise<void> {
    this.#timer = null;
    this.#running = true;
    const batch = this.#queue.splice(0, this.#maxBatch);
    let applied = performance.now();
    try {
      const results = await this.db.transaction().execute(async (trx) => {
        const prepared = await this.options.prepare(trx);
        const out: R[] = [];
        for (const { item } of batch) out.push(await this.options.apply(trx, item, prepared));
        applied = performance.now();
        return out;
      });
      for (const [i, unit] of batch.entries()) unit.resolve(results[i] as R);
    } catch (error) {
      for (const unit of batch) unit.reject(error);
    } finally {
      // The commit's cost is what batching saves: from the last unit's work to the committed answer.
      const ended = performance.now();
      this.#notBefore = ended + Math.min((ended - applied) * PAUSE_PER_COMMIT, MAX_PAUSE_MS);
      this.#running = false;
      if (this.#queue.length > 0) this.#schedule();
    }
  }
}
