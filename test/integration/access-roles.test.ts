import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvents } from '../../src/core/events.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

const SENSOR_RULES = [
  { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up', qos: [1, 0] },
  { permission: 'deny', action: 'all', topic: 'dt/${username}/secret/#' },
  { permission: 'allow', action: 'subscribe', topic: 'cmd/${clientid}/#', retain: false },
];

describe.each(ENGINES)('access roles API (%s)', (engine) => {
  let t: TestContext;
  let root: string;
  let viewer: string;
  let operator: string;
  let plainOperator: string;
  const roleEvents: Array<DomainEvents['access_role.changed']> = [];
  const userEvents: Array<DomainEvents['user.changed']> = [];

  beforeAll(async () => {
    t = await createTestContext({ engine });
    t.services.infra.events.on('access_role.changed', (event) => void roleEvents.push(event));
    t.services.infra.events.on('user.changed', (event) => void userEvents.push(event));
    root = await t.login('admin', ROOT_PASSWORD);
    await t.createUser({ username: 'vera', role: 'viewer' });
    await t.createUser({ username: 'otto', role: 'operator' });
    await t.createUser({ username: 'olga', role: 'operator', scopes: ['log_management'] });
    viewer = await t.login('vera');
    operator = await t.login('otto');
    plainOperator = await t.login('olga');
  });
  afterAll(() => t.close());

  const call = (method: Method, url: string, cookie: string, payload?: object) =>
    t.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) });
  const lastAudit = async (action: string, target: string) =>
    (await call('GET', `/api/v1/audit?action=${action}&target=${target}`, root)).json().items[0];

  describe('create', () => {
    it('creates a role with ordered, normalized rules and audits the result', async () => {
      const res = await call('POST', '/api/v1/access-roles', operator, {
        name: 'sensor',
        description: 'field sensors',
        rules: SENSOR_RULES,
      });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({
        name: 'sensor',
        description: 'field sensors',
        version: 1,
        userCount: 0,
        rules: [{ ...SENSOR_RULES[0], qos: [0, 1] }, SENSOR_RULES[1], SENSOR_RULES[2]],
      });
      expect(await lastAudit('access_role.create', 'access_role:sensor')).toMatchObject({
        actor: { name: 'user:otto' },
        details: { after: { name: 'sensor', rules: expect.any(Array), version: 1 } },
      });
      expect(roleEvents).toContainEqual({ name: 'sensor', change: 'created' });
    });

    it('creates a role without rules (everything denied until rules are added)', async () => {
      const res = await call('POST', '/api/v1/access-roles', root, { name: 'empty-role' });
      expect(res.statusCode).toBe(201);
      expect(res.json().rules).toEqual([]);
    });

    it('refuses a taken name case-insensitively (409 access_role.exists)', async () => {
      const res = await call('POST', '/api/v1/access-roles', root, { name: 'SENSOR' });
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('access_role.exists');
    });

    it.each([
      ['a name too short', { name: 'ab' }],
      ['a name with spaces', { name: 'bad name' }],
      ['an unknown field', { name: 'extra', owner: 'x' }],
      ['an unknown action', { name: 'act', rules: [{ permission: 'allow', action: 'read', topic: 'a' }] }],
      [
        'an out-of-range QoS',
        { name: 'qos3', rules: [{ permission: 'allow', action: 'all', topic: 'a', qos: [3] }] },
      ],
      [
        'an unknown rule field',
        { name: 'rf', rules: [{ permission: 'allow', action: 'all', topic: 'a', clientid: 'x' }] },
      ],
    ])('refuses %s with 400 request.invalid', async (_case, body) => {
      const res = await call('POST', '/api/v1/access-roles', root, body);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('request.invalid');
    });

    it('reports every malformed rule topic with its index (400 access_role.invalid_rule), writing nothing', async () => {
      const res = await call('POST', '/api/v1/access-roles', root, {
        name: 'broken',
        rules: [
          { permission: 'allow', action: 'all', topic: 'ok/#' },
          { permission: 'allow', action: 'all', topic: 'a/#/b' },
          { permission: 'allow', action: 'all', topic: 'a/b+' },
          { permission: 'allow', action: 'all', topic: '${password}/x' },
          { permission: 'allow', action: 'all', topic: '$share/g/a' },
          { permission: 'allow', action: 'all', topic: 'nul\u0000byte' },
          { permission: 'allow', action: 'all', topic: '' },
          { permission: 'allow', action: 'all', topic: Array(101).fill('l').join('/') },
          { permission: 'allow', action: 'all', topic: 'x'.repeat(65_536) },
        ],
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('access_role.invalid_rule');
      expect(res.json().errors.map((e: { index: number }) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(res.json().errors[0]).toMatchObject({
        pointer: '/rules/1',
        message: expect.stringContaining('#'),
      });
      expect((await call('GET', '/api/v1/access-roles/broken', root)).statusCode).toBe(404);
    });

    it('caps a role at 500 rules (400 access_role.too_many_rules)', async () => {
      const rules = Array.from({ length: 501 }, (_, i) => ({
        permission: 'allow',
        action: 'all',
        topic: `t/${i}`,
      }));
      const res = await call('POST', '/api/v1/access-roles', root, { name: 'huge', rules });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('access_role.too_many_rules');
      const ok = await call('POST', '/api/v1/access-roles', root, {
        name: 'large',
        rules: rules.slice(0, 500),
      });
      expect(ok.statusCode).toBe(201);
    });
  });

  describe('read', () => {
    it('lists roles by name, paged, for any complete session (viewers included)', async () => {
      const res = await call('GET', '/api/v1/access-roles?pageSize=25', viewer);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ page: 1, pageSize: 25, total: 3 });
      expect(res.json().items.map((r: { name: string }) => r.name)).toEqual([
        'empty-role',
        'large',
        'sensor',
      ]);
      expect((await call('GET', '/api/v1/access-roles?pageSize=7', viewer)).statusCode).toBe(400);
    });

    it('gets one role by name, case-insensitively; 404 access_role.not_found otherwise', async () => {
      expect((await call('GET', '/api/v1/access-roles/Sensor', viewer)).json().name).toBe('sensor');
      const missing = await call('GET', '/api/v1/access-roles/nothing', viewer);
      expect(missing.statusCode).toBe(404);
      expect(missing.json().code).toBe('access_role.not_found');
    });

    it('needs a session', async () => {
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/access-roles' })).statusCode).toBe(401);
    });
  });

  describe('write permissions', () => {
    it('viewers and operators without asset_management cannot change roles (403)', async () => {
      for (const cookie of [viewer, plainOperator]) {
        for (const [method, url, payload] of [
          ['POST', '/api/v1/access-roles', { name: 'sneaky' }],
          ['PUT', '/api/v1/access-roles/sensor', { rules: [] }],
          ['DELETE', '/api/v1/access-roles/sensor', undefined],
        ] as const) {
          const res = await call(method, url, cookie, payload);
          expect(res.statusCode, `${method} ${url}`).toBe(403);
          expect(res.json().code).toBe('auth.forbidden');
        }
      }
      expect((await call('GET', '/api/v1/access-roles/sensor', root)).json().version).toBe(1);
    });
  });

  describe('update', () => {
    it('replaces the rules, bumps the version, audits before/after and announces the change', async () => {
      roleEvents.length = 0;
      const rules = [{ permission: 'allow', action: 'subscribe', topic: 'cmd/#' }];
      const res = await call('PUT', '/api/v1/access-roles/empty-role', operator, {
        rules,
        description: 'now used',
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ name: 'empty-role', version: 2, rules, description: 'now used' });
      expect(await lastAudit('access_role.update', 'access_role:empty-role')).toMatchObject({
        details: {
          before: { rules: [], description: '' },
          after: { rules, description: 'now used' },
          version: 2,
        },
      });
      expect(roleEvents).toEqual([{ name: 'empty-role', change: 'updated' }]);
    });

    it('keeps the version when nothing changes (no audit, no event)', async () => {
      roleEvents.length = 0;
      const current = (await call('GET', '/api/v1/access-roles/empty-role', root)).json();
      const res = await call('PUT', '/api/v1/access-roles/empty-role', root, {
        rules: current.rules,
        name: 'EMPTY-role',
      });
      expect(res.json().version).toBe(current.version);
      expect(roleEvents).toEqual([]);
    });

    it('refuses a rename, a stale version and invalid rules, changing nothing', async () => {
      const rename = await call('PUT', '/api/v1/access-roles/empty-role', root, { name: 'other', rules: [] });
      expect(rename.json().code).toBe('access_role.name_immutable');
      const stale = await call('PUT', '/api/v1/access-roles/empty-role', root, { rules: [], version: 1 });
      expect(stale.statusCode).toBe(409);
      expect(stale.json().code).toBe('access_role.version_conflict');
      const invalid = await call('PUT', '/api/v1/access-roles/empty-role', root, {
        rules: [{ permission: 'allow', action: 'all', topic: 'a/#/b' }],
      });
      expect(invalid.json()).toMatchObject({ code: 'access_role.invalid_rule', errors: [{ index: 0 }] });
      expect((await call('GET', '/api/v1/access-roles/empty-role', root)).json()).toMatchObject({
        version: 2,
        rules: [{ topic: 'cmd/#' }],
      });
      const missing = await call('PUT', '/api/v1/access-roles/nothing', root, { rules: [] });
      expect(missing.statusCode).toBe(404);
    });
  });

  describe('assignment to users', () => {
    it('creates a user holding roles in order, shown in every user response', async () => {
      const res = await call('POST', '/api/v1/users', root, {
        username: 'dev-01',
        password: STRONG_PASSWORD,
        role: 'viewer',
        kind: 'device',
        accessRoles: ['SENSOR', 'empty-role'],
      });
      expect(res.statusCode).toBe(201);
      expect(res.json().accessRoles).toEqual(['sensor', 'empty-role']);
      expect((await call('GET', '/api/v1/users/dev-01', root)).json().accessRoles).toEqual([
        'sensor',
        'empty-role',
      ]);
      const list = (await call('GET', '/api/v1/users?search=dev-01', root)).json();
      expect(list.items[0].accessRoles).toEqual(['sensor', 'empty-role']);
      expect((await call('GET', '/api/v1/users/otto', root)).json().accessRoles).toEqual([]);
      expect((await call('GET', '/api/v1/access-roles/sensor', root)).json().userCount).toBe(1);
    });

    it('reorders and changes assignments with PATCH, audits them and emits user.changed access_roles', async () => {
      userEvents.length = 0;
      const res = await call('PATCH', '/api/v1/users/dev-01', root, {
        accessRoles: ['empty-role', 'sensor'],
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().accessRoles).toEqual(['empty-role', 'sensor']);
      expect(userEvents).toEqual([
        { userId: expect.any(String), username: 'dev-01', change: 'access_roles' },
      ]);
      expect(await lastAudit('user.update', 'user:dev-01')).toMatchObject({
        details: {
          before: { accessRoles: ['sensor', 'empty-role'] },
          after: { accessRoles: ['empty-role', 'sensor'] },
        },
      });
      userEvents.length = 0;
      await call('PATCH', '/api/v1/users/dev-01', root, { accessRoles: ['EMPTY-ROLE', 'Sensor'] });
      expect(userEvents).toEqual([]);
    });

    it('refuses unknown roles (400 access_role.unknown with indexes) and duplicates, writing nothing', async () => {
      const unknown = await call('PATCH', '/api/v1/users/dev-01', root, {
        description: 'must not stick',
        accessRoles: ['sensor', 'ghost', 'phantom'],
      });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json()).toMatchObject({
        code: 'access_role.unknown',
        errors: [{ index: 1 }, { index: 2 }],
      });
      const duplicate = await call('PATCH', '/api/v1/users/dev-01', root, {
        accessRoles: ['sensor', 'SENSOR'],
      });
      expect(duplicate.json()).toMatchObject({ code: 'request.invalid', errors: [{ index: 1 }] });
      const created = await call('POST', '/api/v1/users', root, {
        username: 'dev-02',
        password: STRONG_PASSWORD,
        role: 'viewer',
        accessRoles: ['ghost'],
      });
      expect(created.json().code).toBe('access_role.unknown');
      expect((await call('GET', '/api/v1/users/dev-02', root)).statusCode).toBe(404);
      expect((await call('GET', '/api/v1/users/dev-01', root)).json()).toMatchObject({
        description: '',
        accessRoles: ['empty-role', 'sensor'],
      });
    });
  });

  describe('delete', () => {
    it('refuses to delete a role in use (409 access_role.in_use)', async () => {
      const res = await call('DELETE', '/api/v1/access-roles/sensor', root);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('access_role.in_use');
    });

    it('force-deletes a role in use, removing it from its holders, audited', async () => {
      roleEvents.length = 0;
      const res = await call('DELETE', '/api/v1/access-roles/sensor?force=true', operator);
      expect(res.statusCode).toBe(204);
      expect((await call('GET', '/api/v1/users/dev-01', root)).json().accessRoles).toEqual(['empty-role']);
      expect(await lastAudit('access_role.delete', 'access_role:sensor')).toMatchObject({
        details: { before: { name: 'sensor', rules: expect.any(Array) }, assignmentsRemoved: 1 },
      });
      expect(roleEvents).toEqual([{ name: 'sensor', change: 'deleted' }]);
      expect((await call('DELETE', '/api/v1/access-roles/sensor', root)).statusCode).toBe(404);
    });

    it('a delete racing an assignment ends as one of them, never as a 5xx or a dangling assignment', async () => {
      await t.createUser({ username: 'racer', role: 'viewer' });
      for (let i = 0; i < 10; i++) {
        await t.services.accessRoles.create(CLI_CONTEXT, { name: `race-${i}` });
        const [removed, assigned] = await Promise.all([
          call('DELETE', `/api/v1/access-roles/race-${i}`, root),
          call('PATCH', '/api/v1/users/racer', root, { accessRoles: [`race-${i}`] }),
        ]);
        expect([204, 409]).toContain(removed.statusCode);
        expect([200, 400]).toContain(assigned.statusCode);
        const held = (await call('GET', '/api/v1/users/racer', root)).json().accessRoles;
        expect(held).toEqual(removed.statusCode === 204 ? [] : [`race-${i}`]);
        await call('PATCH', '/api/v1/users/racer', root, { accessRoles: [] });
      }
    });

    it('deletes an unused role; a user deletion drops its assignments', async () => {
      expect((await call('DELETE', '/api/v1/access-roles/large', root)).statusCode).toBe(204);
      expect((await call('DELETE', '/api/v1/users/dev-01', root)).statusCode).toBe(204);
      expect((await call('GET', '/api/v1/access-roles/empty-role', root)).json().userCount).toBe(0);
      expect((await call('DELETE', '/api/v1/access-roles/empty-role', root)).statusCode).toBe(204);
    });
  });
});
