import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from './token-bucket.js';

function limiter(options: { rate: number; burst: number; maxKeys?: number }): {
  bucket: TokenBucketLimiter;
  advance(ms: number): void;
} {
  let now = 1_000;
  const bucket = new TokenBucketLimiter({
    ratePerSecond: options.rate,
    burst: options.burst,
    now: () => now,
    ...(options.maxKeys === undefined ? {} : { maxKeys: options.maxKeys }),
  });
  return { bucket, advance: (ms) => (now += ms) };
}

describe('TokenBucketLimiter', () => {
  it('lets a burst through, then answers the wait until the next token', () => {
    const { bucket } = limiter({ rate: 10, burst: 3 });
    expect([bucket.take('a'), bucket.take('a'), bucket.take('a')]).toEqual([0, 0, 0]);
    expect(bucket.take('a')).toBe(100);
    expect(bucket.peek('a')).toBe(100);
  });

  it('refills at the configured rate, never above the burst', () => {
    const { bucket, advance } = limiter({ rate: 10, burst: 2 });
    bucket.take('a');
    bucket.take('a');
    advance(100);
    expect(bucket.take('a')).toBe(0);
    expect(bucket.take('a')).toBeGreaterThan(0);
    advance(60_000);
    expect([bucket.take('a'), bucket.take('a'), bucket.take('a')]).toEqual([0, 0, 100]);
  });

  it('keeps one bucket per key', () => {
    const { bucket } = limiter({ rate: 1, burst: 1 });
    expect(bucket.take('a')).toBe(0);
    expect(bucket.take('a')).toBe(1000);
    expect(bucket.take('b')).toBe(0);
  });

  it('forgets the oldest key beyond maxKeys', () => {
    const { bucket } = limiter({ rate: 1, burst: 1, maxKeys: 2 });
    bucket.take('a');
    bucket.take('b');
    bucket.take('c');
    expect(bucket.size).toBe(2);
    expect(bucket.take('a')).toBe(0);
  });

  it('refuses nonsensical options', () => {
    expect(() => new TokenBucketLimiter({ ratePerSecond: 0, burst: 1, now: () => 0 })).toThrow();
  });
});
