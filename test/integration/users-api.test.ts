import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

describe('users API', () => {
  let t: TestContext;
  let root: string;
  let viewer: string;

  beforeAll(async () => {
    t = await createTestContext();
    root = await t.login('admin', ROOT_PASSWORD);
    await t.createUser({ username: 'vera', role: 'viewer', scopes: ['log_management'] });
    viewer = await t.login('vera');
  });
  afterAll(() => t.close());

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    cookie: string,
    payload?: object,
  ) => t.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) });

  describe('create', () => {
    it('creates a user with role defaults and hides every secret', async () => {
      const res = await call('POST', '/api/v1/users', root, {
        username: 'Alice.W',
        password: STRONG_PASSWORD,
        role: 'editor',
        email: 'alice@example.com',
        sessionTimeoutMinutes: 525600,
      });
      expect(res.statusCode).toBe(201);
      const user = res.json();
      expect(user).toMatchObject({
        username: 'Alice.W',
        role: 'operator',
        scopes: ['asset_management', 'log_management'],
        active: true,
        protected: false,
        kind: 'person',
        lastLoginAt: null,
      });
      expect(res.body).not.toMatch(/argon2|password_hash|passwordHash|totp/i);
    });

    it.each([
      ['too short', { username: 'ab' }],
      ['too long', { username: 'a'.repeat(51) }],
      ['bad characters', { username: 'bad name' }],
      ['unicode', { username: 'jürgen' }],
      ['bad email', { username: 'mailer', email: 'not-an-email' }],
      ['long description', { username: 'descr', description: 'x'.repeat(501) }],
      ['timeout above a year', { username: 'timeout', sessionTimeoutMinutes: 525601 }],
      ['unknown role', { username: 'roleless', role: 'superuser' }],
      ['unknown field', { username: 'extra', isAdmin: true }],
      ['unknown scope', { username: 'scoped', scopes: ['root'] }],
    ])('refuses %s with 400 request.invalid', async (_name, override) => {
      const res = await call('POST', '/api/v1/users', root, {
        password: STRONG_PASSWORD,
        role: 'viewer',
        ...override,
      });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ code: 'request.invalid', status: 400 });
    });

    it('accepts the username boundaries (3 and 50 characters of [A-Za-z0-9_.-])', async () => {
      for (const username of ['a_b', `${'x'.repeat(48)}.-`]) {
        expect(
          (await call('POST', '/api/v1/users', root, { username, password: STRONG_PASSWORD, role: 'viewer' }))
            .statusCode,
        ).toBe(201);
      }
    });

    it('treats usernames as unique case-insensitively (409 user.exists)', async () => {
      const res = await call('POST', '/api/v1/users', root, {
        username: 'ALICE.w',
        password: STRONG_PASSWORD,
        role: 'viewer',
      });
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('user.exists');
    });

    it('refuses scopes the role cannot hold', async () => {
      const res = await call('POST', '/api/v1/users', root, {
        username: 'viewer2',
        password: STRONG_PASSWORD,
        role: 'viewer',
        scopes: ['user_management'],
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('user.scopes_incompatible');
    });

    it('enforces the password policy with one entry per failed rule', async () => {
      const res = await call('POST', '/api/v1/users', root, {
        username: 'weakpw',
        password: 'abc',
        role: 'viewer',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('password.policy');
      expect(
        res
          .json()
          .errors.map((e: { rule: string }) => e.rule)
          .sort(),
      ).toEqual(['digit', 'min_length', 'special', 'uppercase']);
    });
  });

  describe('list', () => {
    beforeAll(async () => {
      for (let i = 0; i < 30; i += 1) {
        await t.createUser({
          username: `fleet-${String(i).padStart(2, '0')}`,
          role: i < 10 ? 'operator' : 'viewer',
          email: `f${i}@Plant.example`,
        });
      }
      await call('POST', '/api/v1/users/fleet-29/deactivate', root);
    });

    it('searches username and email case-insensitively, pages and totals', async () => {
      const res = await call('GET', '/api/v1/users?search=FLEET&pageSize=25&page=2', root);
      expect(res.json()).toMatchObject({ total: 29, page: 2, pageSize: 25 });
      expect(res.json().items).toHaveLength(4);
      const byEmail = await call('GET', '/api/v1/users?search=plant.EXAMPLE', root);
      expect(byEmail.json().total).toBe(29);
    });

    it('hides inactive users unless asked', async () => {
      const shown = await call('GET', '/api/v1/users?search=fleet-29', root);
      expect(shown.json().total).toBe(0);
      const all = await call('GET', '/api/v1/users?search=fleet-29&includeInactive=true', root);
      expect(all.json().items[0]).toMatchObject({ username: 'fleet-29', active: false });
    });

    it('filters by role (editor is operator)', async () => {
      const res = await call('GET', '/api/v1/users?search=fleet&role=editor', root);
      expect(res.json().total).toBe(10);
      expect(res.json().items.every((u: { role: string }) => u.role === 'operator')).toBe(true);
    });

    it('accepts only page sizes 25, 50, 100 and 250', async () => {
      expect((await call('GET', '/api/v1/users?pageSize=250', root)).statusCode).toBe(200);
      expect((await call('GET', '/api/v1/users?pageSize=30', root)).json().code).toBe('request.invalid');
      expect((await call('GET', '/api/v1/users?page=0', root)).statusCode).toBe(400);
    });
  });

  describe('update', () => {
    beforeAll(() => t.createUser({ username: 'otto', role: 'operator' }));

    it('updates email, description, timeout and kind, auditing before and after', async () => {
      const res = await call('PATCH', '/api/v1/users/otto', root, {
        email: 'otto@example.com',
        description: 'night shift',
        sessionTimeoutMinutes: 90,
        kind: 'service',
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        email: 'otto@example.com',
        description: 'night shift',
        sessionTimeoutMinutes: 90,
        kind: 'service',
      });
      const audit = await call('GET', '/api/v1/audit?action=user.update&target=user:otto', root);
      expect(audit.json().items[0]).toMatchObject({
        actor: { type: 'user', name: 'user:admin' },
        outcome: 'success',
        details: {
          before: { email: null, description: '', sessionTimeoutMinutes: 0, kind: 'person' },
          after: { email: 'otto@example.com', kind: 'service' },
        },
      });
    });

    it('accepts the same username but refuses a different one', async () => {
      expect(
        (await call('PATCH', '/api/v1/users/otto', root, { username: 'otto', description: 'x' })).statusCode,
      ).toBe(200);
      const res = await call('PATCH', '/api/v1/users/otto', root, { username: 'otto2' });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('user.username_immutable');
    });

    it('refuses a role change that leaves incompatible scopes, accepts it with a compatible list', async () => {
      const bad = await call('PATCH', '/api/v1/users/otto', root, { role: 'viewer' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().code).toBe('user.scopes_incompatible');
      const good = await call('PATCH', '/api/v1/users/otto', root, {
        role: 'viewer',
        scopes: ['log_management'],
      });
      expect(good.json()).toMatchObject({ role: 'viewer', scopes: ['log_management'] });
    });

    it('answers 404 user.not_found for unknown users', async () => {
      const res = await call('PATCH', '/api/v1/users/nobody', root, { description: 'x' });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('user.not_found');
    });
  });

  describe('password reset, deactivation, deletion', () => {
    beforeAll(() => t.createUser({ username: 'paula', role: 'viewer' }));

    it("admin reset needs no current password and ends the user's sessions", async () => {
      const paula = await t.login('paula');
      const res = await call('PUT', '/api/v1/users/paula/password', root, { password: 'N3w-Passw0rd!' });
      expect(res.statusCode).toBe(204);
      expect((await call('GET', '/api/v1/me', paula)).statusCode).toBe(401);
      await expect(t.login('paula')).rejects.toThrow();
      await t.login('paula', 'N3w-Passw0rd!');
    });

    it('deactivation ends sessions and refuses login; reactivation restores it', async () => {
      const paula = await t.login('paula', 'N3w-Passw0rd!');
      const res = await call('POST', '/api/v1/users/paula/deactivate', root);
      expect(res.json().active).toBe(false);
      expect((await call('GET', '/api/v1/me', paula)).statusCode).toBe(401);
      await expect(t.login('paula', 'N3w-Passw0rd!')).rejects.toThrow(/401/);
      expect((await call('POST', '/api/v1/users/paula/reactivate', root)).json().active).toBe(true);
      await t.login('paula', 'N3w-Passw0rd!');
    });

    it('deletes a user, which then is gone', async () => {
      expect((await call('DELETE', '/api/v1/users/paula', root)).statusCode).toBe(204);
      expect((await call('GET', '/api/v1/users/paula', root)).statusCode).toBe(404);
      expect((await call('DELETE', '/api/v1/users/paula', root)).statusCode).toBe(404);
    });
  });

  describe('roles and scopes are enforced centrally', () => {
    it('a viewer can read nothing that needs user_management and write nothing', async () => {
      for (const [method, url, payload] of [
        ['GET', '/api/v1/users', undefined],
        ['GET', '/api/v1/users/admin', undefined],
        ['POST', '/api/v1/users', { username: 'sneaky', password: STRONG_PASSWORD, role: 'admin' }],
        ['PATCH', '/api/v1/users/vera', { role: 'admin', scopes: ['user_management'] }],
        ['PATCH', '/api/v1/users/vera', { description: 'self edit is not self-service' }],
        ['DELETE', '/api/v1/users/admin', undefined],
        ['PUT', '/api/v1/settings/security', {}],
      ] as const) {
        const res = await call(method, url, viewer, payload);
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.json().code).toBe('auth.forbidden');
      }
    });

    it('a viewer holding log_management may read the audit log, and its own profile', async () => {
      expect((await call('GET', '/api/v1/audit', viewer)).statusCode).toBe(200);
      expect((await call('GET', '/api/v1/me', viewer)).json().user.username).toBe('vera');
    });

    it('an operator with every operator scope still cannot manage users', async () => {
      await t.createUser({ username: 'oscar', role: 'operator' });
      const oscar = await t.login('oscar');
      expect((await call('GET', '/api/v1/users', oscar)).statusCode).toBe(403);
      expect((await call('POST', '/api/v1/users/vera/deactivate', oscar)).statusCode).toBe(403);
    });

    it('nobody grants a scope they do not hold', async () => {
      await t.createUser({
        username: 'limited',
        role: 'admin',
        scopes: ['user_management', 'log_management'],
      });
      const limited = await t.login('limited');
      const create = await call('POST', '/api/v1/users', limited, {
        username: 'grantee',
        password: STRONG_PASSWORD,
        role: 'admin',
        scopes: ['system_config'],
      });
      expect(create.statusCode).toBe(403);
      const defaults = await call('POST', '/api/v1/users', limited, {
        username: 'grantee',
        password: STRONG_PASSWORD,
        role: 'admin',
      });
      expect(defaults.statusCode).toBe(403);
      const narrow = await call('POST', '/api/v1/users', limited, {
        username: 'grantee',
        password: STRONG_PASSWORD,
        role: 'operator',
        scopes: ['log_management'],
      });
      expect(narrow.statusCode).toBe(201);
      const raise = await call('PATCH', '/api/v1/users/grantee', limited, {
        scopes: ['log_management', 'asset_management'],
      });
      expect(raise.statusCode).toBe(403);
    });

    it('a role or scope change applies to the very next request of a logged-in user', async () => {
      await t.createUser({ username: 'promoted', role: 'viewer' });
      const promoted = await t.login('promoted');
      expect((await call('GET', '/api/v1/users', promoted)).statusCode).toBe(403);
      await call('PATCH', '/api/v1/users/promoted', root, { role: 'admin', scopes: ['user_management'] });
      expect((await call('GET', '/api/v1/users', promoted)).statusCode).toBe(200);
    });
  });

  describe('requests without a valid session', () => {
    it('answer 401 auth.required for protected routes and tampered cookies', async () => {
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/users' })).json().code).toBe('auth.required');
      const tampered = `${root.slice(0, -3)}xyz`;
      expect((await call('GET', '/api/v1/me', tampered)).statusCode).toBe(401);
    });
  });
});
