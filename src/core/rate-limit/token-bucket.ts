/** Options of a {@link TokenBucketLimiter}. */
export interface TokenBucketOptions {
  /** Tokens added per second (the sustained rate). */
  readonly ratePerSecond: number;
  /** Bucket size: how many requests a quiet source may send at once. */
  readonly burst: number;
  /** Milliseconds since some epoch; injectable so tests never sleep. */
  readonly now: () => number;
  /**
   * Most keys tracked at once. Beyond it the least recently inserted key is forgotten (its next request starts
   * with a full bucket), which bounds memory against sources that rotate addresses.
   */
  readonly maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A per-key token bucket (one bucket per source address, say). Each request takes one token; tokens refill at
 * `ratePerSecond` up to `burst`. Pure arithmetic over a Map, no timers: an idle key costs nothing until it is
 * evicted.
 */
export class TokenBucketLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #maxKeys: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) {
      throw new Error('a token bucket needs ratePerSecond > 0 and burst >= 1');
    }
    this.#rate = options.ratePerSecond / 1000;
    this.#burst = options.burst;
    this.#now = options.now;
    this.#maxKeys = options.maxKeys ?? 10_000;
  }

  /**
   * Takes one token for `key`.
   * @returns 0 when the request may proceed, else the milliseconds until a token is available (≥ 1).
   */
  take(key: string): number {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next();
        if (!oldest.done) this.#buckets.delete(oldest.value);
      }
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(key, bucket);
    } else if (now > bucket.at) {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#rate);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
  }

  /**
   * The wait for `key` without taking a token: 0 when a request would pass now.
   */
  peek(key: string): number {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return 0;
    const tokens = Math.min(this.#burst, bucket.tokens + Math.max(0, this.#now() - bucket.at) * this.#rate);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.#rate));
  }

  /** Keys currently tracked (for tests and diagnostics). */
  get size(): number {
    return this.#buckets.size;
  }
}
