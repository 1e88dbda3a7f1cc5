import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ARGON2_PARAMS } from '../../src/core/crypto/password-hasher.js';
import { createTestContext, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

const CONCURRENCY = 1;
const MAX_QUEUE = 2;
const LOGINS = 12;

describe('bounded password hashing', () => {
  let t: TestContext;
  beforeEach(async () => {
    // Production argon2 cost, so every verification takes long enough for the requests to pile up.
    t = await createTestContext({
      hasher: { concurrency: CONCURRENCY, maxQueue: MAX_QUEUE, params: ARGON2_PARAMS },
    });
    for (let i = 0; i < LOGINS; i += 1) await t.createUser({ username: `user${i}`, role: 'viewer' });
  });
  afterEach(() => t.close());

  it(`more verifications than concurrency + queue (${CONCURRENCY} + ${MAX_QUEUE}) get 503 server.busy; /healthz still answers`, async () => {
    const logins = Array.from({ length: LOGINS }, (_, i) =>
      t.call('POST', '/api/v1/auth/login', { payload: { username: `user${i}`, password: STRONG_PASSWORD } }),
    );
    const health = await t.call('GET', '/healthz');
    expect(health.statusCode).toBe(200);
    expect(t.services.infra.hasher.stats.inFlight).toBeLessThanOrEqual(CONCURRENCY);

    const results = await Promise.all(logins);
    const busy = results.filter((r) => r.statusCode === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy.length).toBeLessThanOrEqual(LOGINS - CONCURRENCY - MAX_QUEUE);
    for (const res of busy) {
      expect(res.json().code).toBe('server.busy');
      expect(res.headers['retry-after']).toBe('1');
    }
    expect(results.every((r) => r.statusCode === 200 || r.statusCode === 503)).toBe(true);
  });

  it('an attempt refused as busy costs no throttle budget', async () => {
    const results = await Promise.all(
      Array.from({ length: LOGINS }, () =>
        t.call('POST', '/api/v1/auth/login', { payload: { username: 'user0', password: 'Wr0ng-Passw0rd!' } }),
      ),
    );
    const busy = results.filter((r) => r.statusCode === 503).length;
    const verified = results.filter((r) => r.statusCode === 401).length;
    expect(busy).toBeGreaterThan(0);
    const row = await t.database.db
      .selectFrom('login_throttle')
      .selectAll()
      .where('key', '=', 'acct:user0')
      .executeTakeFirstOrThrow();
    expect(row.attempts).toBe(verified);
  });
});
