import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { CredentialCache } from './credential-cache.js';

describe('CredentialCache', () => {
  const make = (clock = new ManualClock(), maxEntries = 100) =>
    new CredentialCache({ secretKey: 'k'.repeat(32), clock, ttlMs: 60_000, maxEntries });
  const user = { userId: 'u1', username: 'Dev-1' };

  it('keys by an HMAC of lower(username) NUL password: case-insensitive user, exact password, no secret in the key', () => {
    const cache = make();
    const key = cache.keyFor('Dev-1', 'S3cret!');
    expect(cache.keyFor('dev-1', 'S3cret!')).toBe(key);
    expect(cache.keyFor('dev-1', 's3cret!')).not.toBe(key);
    expect(cache.keyFor('dev-1S3cret!', '')).not.toBe(key);
    expect(key).not.toContain('S3cret');
    expect(make().keyFor('Dev-1', 'S3cret!')).toBe(key);
    expect(
      new CredentialCache({
        secretKey: 'x'.repeat(32),
        clock: new ManualClock(),
        ttlMs: 1,
        maxEntries: 1,
      }).keyFor('Dev-1', 'S3cret!'),
    ).not.toBe(key);
  });

  it('expires ttl after verification, but not while pinned, then ttl after the last release', () => {
    const clock = new ManualClock();
    const cache = make(clock);
    const key = cache.keyFor('Dev-1', 'pw');
    cache.set(key, user, cache.generation('dev-1'));
    const releaseA = cache.pin(key);
    const releaseB = cache.pin(key);
    clock.advance(3_600_000);
    expect(cache.get(key)).toMatchObject(user);
    releaseA();
    releaseA();
    clock.advance(120_000);
    expect(cache.get(key)).toMatchObject(user);
    releaseB();
    clock.advance(59_999);
    expect(cache.get(key)).toMatchObject(user);
    clock.advance(1);
    expect(cache.get(key)).toBeUndefined();
  });

  it('drops a user at once, and refuses a verification that started before the drop', () => {
    const cache = make();
    const key = cache.keyFor('Dev-1', 'pw');
    const before = cache.generation('DEV-1');
    cache.set(key, user, before);
    cache.pin(key);
    cache.dropUser('dev-1');
    expect(cache.get(key)).toBeUndefined();
    cache.set(key, user, before);
    expect(cache.get(key)).toBeUndefined();
    cache.set(key, user, cache.generation('dev-1'));
    expect(cache.get(key)).toMatchObject(user);
  });

  it('clear forgets everyone, and refuses verifications that started before it', () => {
    const cache = make();
    const key = cache.keyFor('dev-1', 'pw');
    const before = cache.generation('dev-1');
    cache.set(key, user, before);
    cache.clear();
    expect(cache.get(key)).toBeUndefined();
    cache.set(key, user, before);
    expect(cache.get(key)).toBeUndefined();
    cache.set(key, user, cache.generation('dev-1'));
    expect(cache.get(key)).toMatchObject(user);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const cache = make(new ManualClock(), 2);
    const keys = ['a', 'b', 'c'].map((pw) => cache.keyFor('Dev-1', pw));
    for (const key of keys) cache.set(key, user, cache.generation('dev-1'));
    expect(cache.size).toBe(2);
    expect(cache.get(keys[0] as string)).toBeUndefined();
    expect(cache.get(keys[2] as string)).toBeDefined();
  });
});
