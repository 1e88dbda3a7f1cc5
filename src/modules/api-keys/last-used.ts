/** How often the gathered last-use times are written: the precision of `lastUsedAt` (docs/api-keys.md). */
export const LAST_USED_FLUSH_MS = 60_000;

/**
 * Last-use times of API keys, gathered in memory and written in one transaction per interval (and at stop),
 * so a busy key costs no commit per request. A batch that cannot be written goes back into the next one; a
 * process killed without a clean stop loses at most one interval, which only makes `lastUsedAt` look older.
 */
export function createLastUsedBatch(write: (times: ReadonlyMap<string, number>) => Promise<void>) {
  let pending = new Map<string, number>();
  let writing: Promise<void> = Promise.resolve();

  function touch(id: string, at: number): void {
    const known = pending.get(id);
    if (known === undefined || known < at) pending.set(id, at);
  }

  /** Writes what was gathered; one write at a time, in order, so an older batch never lands after a newer one. */
  function flush(): Promise<void> {
    const run = writing.then(async () => {
      const batch = pending;
      pending = new Map();
      try {
        await write(batch);
      } catch (error) {
        for (const [id, at] of batch) touch(id, at);
        throw error;
      }
    });
    writing = run.catch(() => {});
    return run;
  }

  return {
    touch,
    flush,
    /** Flushes every interval (failures are retried with the next batch); the stop function flushes once more. */
    start(onError: (error: unknown) => void): () => Promise<void> {
      const timer = setInterval(() => flush().catch(onError), LAST_USED_FLUSH_MS);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await flush();
      };
    },
  };
}
