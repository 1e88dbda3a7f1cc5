/** Injectable time source: sessions, TOTP and throttling read time only through this, so tests never sleep. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Runs `task` once when the clock reaches `time` (epoch ms); returns the function that cancels it. Optional:
   * {@link runAt} falls back to a real timer for clocks without it (the system clock).
   */
  at?(time: number, task: () => void): () => void;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The longest delay `setTimeout` takes (about 24.8 days); a later deadline is reached in several steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs `task` once `clock` reaches `time` (at once, asynchronously, when it already has); returns the function
 * that cancels it. Real timers are unref'd: a pending deadline never keeps a process alive.
 */
export function runAt(clock: Clock, time: number, task: () => void): () => void {
  if (clock.at) return clock.at(time, task);
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const delay = time - clock.now();
    if (delay <= 0 && timer !== undefined) {
      task();
      return;
    }
    timer = setTimeout(arm, Math.min(Math.max(delay, 0), MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}

/** A clock tests move by hand; tasks scheduled with {@link runAt} run when it is moved past their time. */
export class ManualClock implements Clock {
  readonly #tasks = new Set<{ time: number; task: () => void }>();

  constructor(private current: number = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current;
  }
  at(time: number, task: () => void): () => void {
    const entry = { time, task };
    this.#tasks.add(entry);
    // Already due: runs asynchronously, as a real timer would, unless cancelled first.
    if (time <= this.current) queueMicrotask(() => this.set(this.current));
    return () => this.#tasks.delete(entry);
  }
  advance(ms: number): void {
    this.set(this.current + ms);
  }
  set(ms: number): void {
    this.current = ms;
    // In time order; a task scheduled by a task runs too when it is due.
    for (;;) {
      const due = [...this.#tasks]
        .filter((entry) => entry.time <= this.current)
        .sort((a, b) => a.time - b.time)[0];
      if (!due) return;
      this.#tasks.delete(due);
      due.task();
    }
  }
}

export function toIso(ms: number): string;
export function toIso(ms: number | null): string | null;
export function toIso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
