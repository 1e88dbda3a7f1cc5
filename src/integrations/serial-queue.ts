/**
 * Runs tasks one at a time, in the order they were queued, so that an adapter's commands to a broker never
 * interleave (a reconcile never races an incremental change). A task queued under a key that is already
 * waiting (not yet started) is merged into it: five changes to one user before the worker gets to it cost
 * one sync.
 */
export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();
  readonly #waiting = new Map<string, Promise<void>>();
  #closed = false;

  /**
   * Queues `task` under `key` (null = never merged). Resolves or rejects with the task; a merged call shares the
   * waiting task's outcome.
   */
  push(key: string | null, task: () => Promise<void>): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the integration is stopped'));
    if (key !== null) {
      const waiting = this.#waiting.get(key);
      if (waiting) return waiting;
    }
    const run = this.#tail.then(() => {
      if (key !== null) this.#waiting.delete(key);
      if (this.#closed) throw new Error('the integration is stopped');
      return task();
    });
    if (key !== null) this.#waiting.set(key, run);
    // The chain continues whatever the task's outcome; callers see the outcome through `run`.
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Queues a task that produces a value (a reconcile report); never merged. */
  run<T>(task: () => Promise<T>): Promise<T> {
    let result: T | undefined;
    return this.push(null, async () => {
      result = await task();
    }).then(() => result as T);
  }

  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void> {
    return this.#tail;
  }

  /** Refuses new tasks; queued ones that have not started fail. */
  close(): void {
    this.#closed = true;
    this.#waiting.clear();
  }
}
