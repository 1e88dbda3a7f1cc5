import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

async function setCap(t: TestContext, maxConcurrentSessions: number): Promise<void> {
  const current = await t.services.settings.getSecurity();
  await t.services.settings.putSecurity(
    { actor: { type: 'cli' }, ip: '', requestId: '' },
    { ...current, maxConcurrentSessions },
  );
}

function login(t: TestContext, username: string) {
  return t.call('POST', '/api/v1/auth/login', { payload: { username, password: STRONG_PASSWORD } });
}

describe.each(ENGINES)('concurrent-session cap (%s)', (engine) => {
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext({ engine });
    for (const name of ['v1', 'v2', 'v3']) await t.createUser({ username: name, role: 'viewer' });
    await t.createUser({ username: 'boss', role: 'admin' });
    await setCap(t, 2);
  });
  afterEach(() => t.close());

  it('refuses a non-admin login beyond the cap with 403 session.limit_reached, audited', async () => {
    expect((await login(t, 'v1')).statusCode).toBe(200);
    expect((await login(t, 'v2')).statusCode).toBe(200);
    const refused = await login(t, 'v3');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('session.limit_reached');
    expect(refused.cookies).toHaveLength(0);
    const [event] = (await t.services.audit.list({ action: 'auth.login', outcome: 'failure' }, 1, 25)).items;
    expect(event).toMatchObject({ target: 'user:v3', details: { reason: 'session_limit', live: 2 } });
  });

  it('never blocks admins, and their sessions do not take slots', async () => {
    await login(t, 'v1');
    await login(t, 'v2');
    expect((await login(t, 'boss')).statusCode).toBe(200);
    expect(
      (
        await t.call('POST', '/api/v1/auth/login', {
          payload: { username: 'admin', password: ROOT_PASSWORD },
        })
      ).statusCode,
    ).toBe(200);
    expect((await login(t, 'v3')).statusCode).toBe(403);
  });

  it('a logout, an ended session or an idle timeout frees a slot at once', async () => {
    const first = await login(t, 'v1');
    await login(t, 'v2');
    expect((await login(t, 'v3')).statusCode).toBe(403);
    const cookie = `warden_session=${first.cookies.find((c) => c.name === 'warden_session')?.value}`;
    expect((await t.call('POST', '/api/v1/auth/logout', { cookie })).statusCode).toBe(204);
    expect((await login(t, 'v3')).statusCode).toBe(200);
    expect((await login(t, 'v1')).statusCode).toBe(403);
    // Nobody is active for longer than the idle timeout: every slot is free again.
    t.clock.advance(31 * 60_000);
    expect((await login(t, 'v1')).statusCode).toBe(200);
  });

  it('racing logins cannot take more slots than the cap', async () => {
    const racers = Array.from({ length: 24 }, (_, i) => `r${i}`);
    for (const name of racers) await t.createUser({ username: name, role: 'viewer' });
    const results = await Promise.all(racers.map((name) => login(t, name)));
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(2);
    expect(results.filter((r) => r.statusCode === 403)).toHaveLength(racers.length - 2);
  });

  it('0 means unlimited', async () => {
    await setCap(t, 0);
    for (let i = 0; i < 5; i += 1) expect((await login(t, `v${(i % 3) + 1}`)).statusCode).toBe(200);
  });
});
