import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, ROOT_PASSWORD, type TestContext } from '../helpers/test-app.js';

/** The audit API of docs/audit.md: who did what, refusals included, and filters people can type. */
describe.each(ENGINES)('audit log (%s)', (engine) => {
  let t: TestContext;
  let root: string;
  beforeAll(async () => {
    t = await createTestContext({ engine });
    root = await t.login('admin', ROOT_PASSWORD);
    await t.createUser({ username: 'bob', role: 'operator' });
    await t.createUser({ username: 'bobby_%', role: 'viewer' });
    await t.login('bob');
    await t.call('POST', '/api/v1/auth/login', { payload: { username: 'bob', password: 'wrong-Passw0rd!' } });
    await t.call('POST', '/api/v1/auth/login', {
      payload: { username: 'nobody', password: 'wrong-Passw0rd!' },
    });
    // Refused: root is the last admin who can manage users.
    await t.call('POST', '/api/v1/users/admin/deactivate', { cookie: root });
  });
  afterAll(() => t.close());

  const query = async (params: string) => {
    const res = await t.call('GET', `/api/v1/audit?${params}`, { cookie: root });
    expect(res.statusCode, params).toBe(200);
    return res.json() as { total: number; items: Array<Record<string, unknown>> };
  };

  it('login events are made by the account’s user, or by anonymous when no account has the name', async () => {
    const logins = (await query('action=auth.login&pageSize=100')).items;
    const bobs = logins.filter((event) => event.target === 'user:bob');
    expect(bobs.map((event) => [event.actor, event.outcome])).toEqual(
      expect.arrayContaining([
        [{ type: 'user', name: 'user:bob' }, 'success'],
        [{ type: 'user', name: 'user:bob' }, 'failure'],
      ]),
    );
    expect(logins.find((event) => event.target === 'user:nobody')).toMatchObject({
      actor: { type: 'anonymous', name: 'anonymous' },
      outcome: 'failure',
      details: { reason: 'unknown_user' },
    });
  });

  it('a refused change (409 last admin) is in the log as a failure with its code', async () => {
    const [event] = (await query('action=user.deactivate&outcome=failure')).items;
    expect(event).toMatchObject({
      actor: { name: 'user:admin' },
      target: 'user:admin',
      details: { error: 'user.last_admin' },
    });
  });

  it('actor accepts a bare username or user:<name>', async () => {
    const bare = await query('actor=bob');
    const prefixed = await query('actor=user:bob');
    expect(bare.total).toBeGreaterThanOrEqual(2);
    expect(bare.total).toBe(prefixed.total);
    expect(
      (await query('actor=cli')).items.every((event) => (event.actor as { name: string }).name === 'cli'),
    ).toBe(true);
    expect((await query('actor=anonymous')).total).toBe(1);
  });

  it('action is exact, or a prefix with or without its trailing dot', async () => {
    const creates = await query('action=user.create');
    expect(creates.total).toBe(3);
    const withDot = await query('action=user.');
    const bare = await query('action=user');
    expect(withDot.total).toBeGreaterThan(creates.total);
    expect(bare.total).toBe(withDot.total);
    expect(withDot.items.every((event) => String(event.action).startsWith('user.'))).toBe(true);
    // `auth` does not match `authz.…`-like neighbours, and LIKE wildcards are literal.
    expect((await query('action=us_r.')).total).toBe(0);
  });

  it('target matches as a case-insensitive substring, wildcards literal', async () => {
    const bobs = await query('target=BOB&pageSize=100');
    expect(bobs.items.length).toBeGreaterThan(0);
    expect(bobs.items.every((event) => String(event.target).toLowerCase().includes('bob'))).toBe(true);
    const literal = await query(`target=${encodeURIComponent('bobby_%')}`);
    expect(literal.items.every((event) => event.target === 'user:bobby_%')).toBe(true);
    expect(literal.total).toBeGreaterThan(0);
    expect((await query('target=ob_')).total).toBe(0);
  });
});
