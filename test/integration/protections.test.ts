import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countUserManagers } from '../../src/modules/users/users.repository.js';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

describe('root user and last-admin protections', () => {
  let t: TestContext;
  let root: string;
  beforeEach(async () => {
    t = await createTestContext();
    root = await t.login('admin', ROOT_PASSWORD);
  });
  afterEach(() => t.close());

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    cookie: string,
    payload?: object,
  ) => t.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) });

  it('root is created protected, as admin with every scope, with a generated password when none is configured', async () => {
    const me = (await call('GET', '/api/v1/me', root)).json().user;
    expect(me).toMatchObject({ username: 'admin', role: 'admin', protected: true, active: true });
    expect(me.scopes).toHaveLength(6);
  });

  it('root cannot be deleted, nor change role or scopes — even by another admin', async () => {
    await t.createUser({ username: 'second', role: 'admin' });
    const second = await t.login('second');
    for (const cookie of [root, second]) {
      const del = await call('DELETE', '/api/v1/users/admin', cookie);
      expect(del.statusCode).toBe(403);
      expect(del.json().code).toBe('user.protected');
      const demote = await call('PATCH', '/api/v1/users/admin', cookie, {
        role: 'operator',
        scopes: ['log_management'],
      });
      expect(demote.json().code).toBe('user.protected');
      const scopes = await call('PATCH', '/api/v1/users/admin', cookie, { scopes: ['user_management'] });
      expect(scopes.json().code).toBe('user.protected');
    }
  });

  it("root's password, email and description stay editable", async () => {
    const patch = await call('PATCH', '/api/v1/users/admin', root, {
      email: 'ops@example.com',
      description: 'break-glass',
      role: 'admin',
    });
    expect(patch.statusCode).toBe(200);
    expect(
      (await call('PUT', '/api/v1/users/admin/password', root, { password: STRONG_PASSWORD })).statusCode,
    ).toBe(204);
    await t.login('admin', STRONG_PASSWORD);
  });

  it('root can be deactivated only while another active admin exists', async () => {
    const alone = await call('POST', '/api/v1/users/admin/deactivate', root);
    expect(alone.statusCode).toBe(409);
    expect(alone.json().code).toBe('user.last_admin');
    await t.createUser({ username: 'deputy', role: 'admin' });
    const deputy = await t.login('deputy');
    expect((await call('POST', '/api/v1/users/admin/deactivate', deputy)).json().active).toBe(false);
    // Now the deputy is the last active admin and cannot remove itself in any way.
    for (const [method, url, payload] of [
      ['POST', '/api/v1/users/deputy/deactivate', undefined],
      ['PATCH', '/api/v1/users/deputy', { role: 'operator', scopes: ['log_management'] }],
      ['DELETE', '/api/v1/users/deputy', undefined],
    ] as const) {
      const res = await call(method, url, deputy, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(409);
      expect(res.json().code).toBe('user.last_admin');
    }
  });

  it('the last admin rule does not block changes to inactive admins or non-admins', async () => {
    await t.createUser({ username: 'retired', role: 'admin' });
    await call('POST', '/api/v1/users/retired/deactivate', root);
    expect((await call('DELETE', '/api/v1/users/retired', root)).statusCode).toBe(204);
  });

  it('a refused change writes nothing but the record of its refusal (no half-applied update)', async () => {
    const before = (await call('GET', '/api/v1/audit?action=user.update&outcome=success', root)).json().total;
    const res = await call('PATCH', '/api/v1/users/admin', root, {
      description: 'changed',
      role: 'viewer',
      scopes: [],
    });
    expect(res.statusCode).toBe(403);
    expect((await call('GET', '/api/v1/users/admin', root)).json().description).not.toBe('changed');
    expect((await call('GET', '/api/v1/audit?action=user.update&outcome=success', root)).json().total).toBe(
      before,
    );
    const refused = (await call('GET', '/api/v1/audit?action=user.update&outcome=failure', root)).json();
    expect(refused.items[0]).toMatchObject({
      target: 'user:admin',
      details: { error: 'user.protected' },
    });
  });
});

describe.each(ENGINES)('last active admin under 100 racing requests on %s', (engine) => {
  it('admins demoting, deactivating, deleting, de-scoping each other concurrently always leave one who can manage users', async () => {
    const t = await createTestContext({ engine });
    try {
      const admins = Array.from({ length: 10 }, (_, i) => `racer${i}`);
      for (const username of admins) await t.createUser({ username, role: 'admin' });
      const cookies = await Promise.all(admins.map((username) => t.login(username)));
      const root = await t.login('admin', ROOT_PASSWORD);
      // Root steps aside first so that only the racers hold the admin role.
      expect(
        (
          await t.app.inject({
            method: 'POST',
            url: '/api/v1/users/admin/deactivate',
            headers: { cookie: root },
          })
        ).statusCode,
      ).toBe(200);

      const requests = Array.from({ length: 100 }, (_, i) => {
        const actor = i % admins.length;
        const target = admins[(actor + 1 + Math.floor(i / admins.length)) % admins.length] as string;
        // Each way out of "admin who can manage users": demotion, deactivation, deletion, losing the scope,
        // becoming a device.
        const kind = i % 5;
        const request =
          kind === 0
            ? {
                method: 'PATCH' as const,
                url: `/api/v1/users/${target}`,
                payload: { role: 'viewer', scopes: [] },
              }
            : kind === 1
              ? { method: 'POST' as const, url: `/api/v1/users/${target}/deactivate` }
              : kind === 2
                ? { method: 'DELETE' as const, url: `/api/v1/users/${target}` }
                : {
                    method: 'PATCH' as const,
                    url: `/api/v1/users/${target}`,
                    payload:
                      kind === 3 ? { scopes: ['system_config', 'log_management'] } : { kind: 'device' },
                  };
        return t.app.inject({ ...request, headers: { cookie: cookies[actor] as string } });
      });
      const responses = await Promise.all(requests);
      const statuses = responses.map((r) => r.statusCode);
      // 400: de-scoping one already demoted to viewer (user.scopes_incompatible).
      for (const status of statuses) expect([200, 204, 400, 401, 403, 404, 409]).toContain(status);
      for (const r of responses.filter((r) => r.statusCode === 400))
        expect(r.json().code).toBe('user.scopes_incompatible');
      expect(statuses.filter((s) => s === 409).length).toBeGreaterThan(0);
      for (const r of responses.filter((r) => r.statusCode === 409))
        expect(r.json().code).toBe('user.last_admin');
      expect(await countUserManagers(t.database.db)).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
    }
  });
});
