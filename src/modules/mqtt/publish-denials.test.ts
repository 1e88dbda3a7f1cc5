import { describe, expect, it } from 'vitest';
import {
  DENIAL_AUDIT_TOPICS_PER_CLIENT,
  DENIAL_AUDIT_WINDOW_MS,
  DenialAuditLimiter,
} from './publish-denials.js';

describe('DenialAuditLimiter', () => {
  const start = 1_000_000;

  it('admits a client and topic once per minute', () => {
    const limiter = new DenialAuditLimiter();
    expect(limiter.admit('dev-1', 'c1', 'dt/x', start)).toBe(true);
    expect(limiter.admit('dev-1', 'c1', 'dt/x', start + 1)).toBe(false);
    expect(limiter.admit('dev-1', 'c1', 'dt/x', start + DENIAL_AUDIT_WINDOW_MS - 1)).toBe(false);
    expect(limiter.admit('dev-1', 'c1', 'dt/x', start + DENIAL_AUDIT_WINDOW_MS)).toBe(true);
    expect(limiter.admit('dev-1', 'c1', 'dt/x', start + DENIAL_AUDIT_WINDOW_MS + 1)).toBe(false);
  });

  it('keeps clients apart: another client id, or another user with the same client id, is its own', () => {
    const limiter = new DenialAuditLimiter();
    expect(limiter.admit('dev-1', 'c1', 'dt/x', start)).toBe(true);
    expect(limiter.admit('dev-1', 'c2', 'dt/x', start)).toBe(true);
    expect(limiter.admit('dev-2', 'c1', 'dt/x', start)).toBe(true);
    expect(limiter.admit('dev-1', 'c1', 'dt/y', start)).toBe(true);
  });

  it('audits at most ten topics per client and minute; a topic seen a minute ago frees its place', () => {
    const limiter = new DenialAuditLimiter();
    const topics = Array.from({ length: 25 }, (_, i) => `spray/${i}`);
    const admitted = topics.filter((topic, i) => limiter.admit('dev-1', 'c1', topic, start + i));
    expect(admitted).toHaveLength(DENIAL_AUDIT_TOPICS_PER_CLIENT);
    expect(limiter.admit('dev-1', 'c2', 'spray/24', start + 30)).toBe(true);
    // The first topic's minute is over: one new topic gets its place, the other nine are still held.
    expect(limiter.admit('dev-1', 'c1', 'spray/24', start + DENIAL_AUDIT_WINDOW_MS)).toBe(true);
    expect(limiter.admit('dev-1', 'c1', 'spray/23', start + DENIAL_AUDIT_WINDOW_MS)).toBe(false);
  });

  it('remembers a bounded number of clients, forgetting the one audited longest ago', () => {
    const limiter = new DenialAuditLimiter(DENIAL_AUDIT_WINDOW_MS, 10, 3);
    for (const client of ['a', 'b', 'c']) expect(limiter.admit('u', client, 't', start)).toBe(true);
    expect(limiter.admit('u', 'a', 't', start + 1)).toBe(false);
    expect(limiter.admit('u', 'd', 't', start + 2)).toBe(true);
    // `a` was forgotten to make room for `d`: audited again; `c` was not.
    expect(limiter.admit('u', 'a', 't', start + 3)).toBe(true);
    expect(limiter.admit('u', 'c', 't', start + 3)).toBe(false);
  });
});
