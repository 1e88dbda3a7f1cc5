import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_DELAY_MS, progressiveDelayMs } from '../../src/modules/throttle/throttle.service.js';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

const WRONG = 'Wr0ng-Passw0rd!';
const WINDOW_MS = 15 * 60_000;

function login(t: TestContext, username: string, password: string, remoteAddress?: string) {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
    ...(remoteAddress ? { remoteAddress } : {}),
  });
}

/** A problem body without the per-request members, for comparing answers. */
function comparable(body: string): Record<string, unknown> {
  const { requestId: _r, ...rest } = JSON.parse(body) as Record<string, unknown>;
  return rest;
}

/** Fails `n` times, waiting out each progressive delay (never the window). */
async function failTimes(t: TestContext, username: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) {
    const res = await login(t, username, WRONG);
    expect(res.statusCode, `attempt ${i + 1}`).toBe(401);
    t.clock.advance(MAX_DELAY_MS);
  }
}

describe('no user enumeration', () => {
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext();
    await t.createUser({ username: 'alice', role: 'operator' });
    await t.createUser({ username: 'ivan', role: 'viewer' });
    await t.services.users.deactivate({ actor: { type: 'cli' }, ip: '', requestId: '' }, 'ivan');
    await t.createUser({ username: 'svc', role: 'viewer', kind: 'service' });
  });
  afterEach(() => t.close());

  it('unknown user, wrong password, inactive user and service account get the identical answer', async () => {
    const answers = [
      await login(t, 'nobody', STRONG_PASSWORD),
      await login(t, 'alice', WRONG),
      await login(t, 'ivan', STRONG_PASSWORD),
      await login(t, 'svc', STRONG_PASSWORD),
    ];
    for (const res of answers) {
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toBe(answers[0]?.headers['content-type']);
      expect(comparable(res.body)).toEqual(comparable(answers[0]?.body ?? ''));
      expect(res.cookies).toHaveLength(0);
    }
    expect(comparable(answers[0]?.body ?? '')).toMatchObject({
      code: 'auth.invalid_credentials',
      status: 401,
    });
  });

  it('every failure is audited with its real reason', async () => {
    await login(t, 'nobody', STRONG_PASSWORD);
    await login(t, 'alice', WRONG);
    await login(t, 'ivan', STRONG_PASSWORD);
    await login(t, 'svc', STRONG_PASSWORD);
    const { items } = await t.services.audit.list({ action: 'auth.login', outcome: 'failure' }, 1, 25);
    const reasons = Object.fromEntries(items.map((e) => [e.target, e.details.reason]));
    expect(reasons).toEqual({
      'user:nobody': 'unknown_user',
      'user:alice': 'wrong_password',
      'user:ivan': 'inactive',
      'user:svc': 'no_console_login',
    });
    for (const event of items) expect(JSON.stringify(event)).not.toContain(WRONG);
  });

  it('unknown users run an argon2 verification too (same cost as a real one)', async () => {
    const verify = vi.spyOn(t.services.infra.hasher, 'verify');
    await login(t, 'nobody', STRONG_PASSWORD);
    await login(t, 'ivan', STRONG_PASSWORD);
    await login(t, 'alice', WRONG);
    expect(verify).toHaveBeenCalledTimes(3);
  });

  it('an unknown account is throttled exactly like a real one', async () => {
    // In lock-step, so both windows end at the same moment.
    for (let i = 0; i < 10; i += 1) {
      expect((await login(t, 'nobody', WRONG)).statusCode).toBe(401);
      expect((await login(t, 'alice', WRONG)).statusCode).toBe(401);
      t.clock.advance(MAX_DELAY_MS);
    }
    const ghost = await login(t, 'nobody', WRONG);
    const real = await login(t, 'alice', STRONG_PASSWORD);
    expect(ghost.statusCode).toBe(429);
    expect(real.statusCode).toBe(429);
    expect(comparable(ghost.body)).toEqual(comparable(real.body));
    expect(ghost.headers['retry-after']).toBe(real.headers['retry-after']);
  });
});

describe('per-account throttling', () => {
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext();
    await t.createUser({ username: 'alice', role: 'operator' });
  });
  afterEach(() => t.close());

  it('progressive delay: free attempts, then 1 s, 2 s, 4 s … capped, each with Retry-After', async () => {
    expect([0, 1, 2, 3, 4, 5, 30].map(progressiveDelayMs)).toEqual([0, 0, 0, 1000, 2000, 4000, MAX_DELAY_MS]);
    for (let i = 0; i < 3; i += 1) expect((await login(t, 'alice', WRONG)).statusCode).toBe(401);
    const blocked = await login(t, 'alice', STRONG_PASSWORD);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('auth.throttled');
    expect(blocked.headers['retry-after']).toBe('1');
    t.clock.advance(1000);
    expect((await login(t, 'alice', WRONG)).statusCode).toBe(401);
    const longer = await login(t, 'alice', WRONG);
    expect(longer.headers['retry-after']).toBe('2');
    // The right password after the delay gets in and starts the account afresh.
    t.clock.advance(2000);
    expect((await login(t, 'alice', STRONG_PASSWORD)).statusCode).toBe(200);
    for (let i = 0; i < 3; i += 1) expect((await login(t, 'alice', WRONG)).statusCode).toBe(401);
  });

  it('10 verifications per 15 minutes, case variants share one counter, the window then resets', async () => {
    const variants = ['alice', 'ALICE', 'Alice', 'aLiCe'];
    for (let i = 0; i < 10; i += 1) {
      expect((await login(t, variants[i % variants.length] as string, WRONG)).statusCode).toBe(401);
      t.clock.advance(MAX_DELAY_MS);
    }
    for (const variant of variants) {
      const res = await login(t, variant, STRONG_PASSWORD);
      expect(res.statusCode).toBe(429);
      const retryAfter = Number(res.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    }
    const throttled = await t.services.audit.list({ action: 'auth.login', outcome: 'failure' }, 1, 250);
    expect(throttled.items.filter((e) => e.details.reason === 'throttled')).toHaveLength(variants.length);
    expect(await t.services.throttle.isBlocked('Alice')).toBe(true);

    t.clock.advance(WINDOW_MS);
    expect((await login(t, 'alice', STRONG_PASSWORD)).statusCode).toBe(200);
    expect(await t.services.throttle.isBlocked('alice')).toBe(false);
  });

  it('a throttled attempt never reaches argon2', async () => {
    await failTimes(t, 'alice', 10);
    const verify = vi.spyOn(t.services.infra.hasher, 'verify');
    expect((await login(t, 'alice', STRONG_PASSWORD)).statusCode).toBe(429);
    expect(verify).not.toHaveBeenCalled();
  });

  it('successful logins from one address never throttle it', async () => {
    for (let i = 0; i < 30; i += 1) expect((await login(t, 'alice', STRONG_PASSWORD)).statusCode).toBe(200);
  });
});

describe('per-address throttling', () => {
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext();
    const root = await t.login('admin', ROOT_PASSWORD);
    const security = (await t.call('GET', '/api/v1/settings/security', { cookie: root })).json();
    await t.call('PUT', '/api/v1/settings/security', {
      cookie: root,
      payload: { ...security, throttle: { ...security.throttle, maxAttemptsPerIp: 5 } },
    });
    await t.createUser({ username: 'alice', role: 'operator' });
  });
  afterEach(() => t.close());

  it('caps failures per client address across accounts; other addresses are unaffected', async () => {
    const spray = ['u1', 'u2', 'u3', 'u4', 'u5'];
    for (const name of spray) expect((await login(t, name, WRONG, '203.0.113.7')).statusCode).toBe(401);
    const blocked = await login(t, 'alice', STRONG_PASSWORD, '203.0.113.7');
    expect(blocked.statusCode).toBe(429);
    expect((await login(t, 'alice', STRONG_PASSWORD, '198.51.100.9')).statusCode).toBe(200);
  });
});

describe.each(ENGINES)('racing brute force (%s)', (engine) => {
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext({ engine });
    await t.createUser({ username: 'alice', role: 'operator' });
  });
  afterEach(() => t.close());

  it('30 racing wrong passwords: at most 10 argon2 verifications, the rest 429', async () => {
    const verify = vi.spyOn(t.services.infra.hasher, 'verify');
    const results = await Promise.all(Array.from({ length: 30 }, () => login(t, 'alice', WRONG)));
    const statuses = results.map((r) => r.statusCode);
    const verified = statuses.filter((s) => s === 401).length;
    expect(verified).toBeGreaterThan(0);
    expect(verified).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30 - verified);
    expect(verify).toHaveBeenCalledTimes(verified);
    // Nothing more gets through for the rest of the window, even with the right password.
    expect((await login(t, 'alice', STRONG_PASSWORD)).statusCode).toBe(429);
    const row = await t.database.db
      .selectFrom('login_throttle')
      .selectAll()
      .where('key', '=', 'acct:alice')
      .executeTakeFirstOrThrow();
    expect(row.attempts).toBeLessThanOrEqual(10);
  });
});
