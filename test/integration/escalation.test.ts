import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

/**
 * Attacks on the management plane: lock-outs through the "at least one admin who can manage users" rule,
 * escalation by acting on users who outrank the actor, and what a refusal tells the client and the audit log.
 */

const OTHER_PASSWORD = 'An0ther-Passw0rd!';

async function lastAudit(t: TestContext, action: string) {
  return (await t.services.audit.list({ action }, 1, 1)).items[0];
}

describe.each(ENGINES)('lock-out through the last user manager (%s)', (engine) => {
  let t: TestContext;
  let root: string;
  beforeEach(async () => {
    t = await createTestContext({ engine });
    root = await t.login('admin', ROOT_PASSWORD);
  });
  afterEach(() => t.close());

  it('an admin promoted with only log_management does not count: root cannot deactivate itself', async () => {
    await t.createUser({ username: 'logs', role: 'viewer', scopes: ['log_management'] });
    const promote = await t.call('PATCH', '/api/v1/users/logs', {
      cookie: root,
      payload: { role: 'admin', scopes: ['log_management'] },
    });
    expect(promote.statusCode).toBe(200);
    expect(promote.json().scopes).toEqual(['log_management']);

    const deactivate = await t.call('POST', '/api/v1/users/admin/deactivate', { cookie: root });
    expect(deactivate.statusCode).toBe(409);
    expect(deactivate.json().code).toBe('user.last_admin');
    expect((await t.call('GET', '/api/v1/users/admin', { cookie: root })).json().active).toBe(true);
  });

  it('a promotion without scopes gets the new role’s defaults, as creation does', async () => {
    await t.createUser({ username: 'vic', role: 'viewer', scopes: ['log_management'] });
    const operator = await t.call('PATCH', '/api/v1/users/vic', {
      cookie: root,
      payload: { role: 'operator' },
    });
    expect(operator.json().scopes).toEqual(['asset_management', 'log_management']);
    const admin = await t.call('PATCH', '/api/v1/users/vic', { cookie: root, payload: { role: 'editor' } });
    expect(admin.json()).toMatchObject({ role: 'operator' });
    const promoted = await t.call('PATCH', '/api/v1/users/vic', { cookie: root, payload: { role: 'admin' } });
    expect(promoted.json().scopes).toEqual([
      'system_config',
      'asset_management',
      'user_management',
      'log_management',
      'api_key_management',
      'sso_management',
    ]);
    // With the defaults the new admin can manage users, so root may step aside.
    expect((await t.call('POST', '/api/v1/users/admin/deactivate', { cookie: root })).statusCode).toBe(200);
  });

  it('a demotion keeps compatible scopes and refuses incompatible ones without a scopes list', async () => {
    await t.createUser({ username: 'ops', role: 'operator' });
    const viewer = await t.call('PATCH', '/api/v1/users/ops', { cookie: root, payload: { role: 'viewer' } });
    expect(viewer.statusCode).toBe(400);
    expect(viewer.json().code).toBe('user.scopes_incompatible');
    const ok = await t.call('PATCH', '/api/v1/users/ops', {
      cookie: root,
      payload: { role: 'viewer', scopes: ['log_management'] },
    });
    expect(ok.json()).toMatchObject({ role: 'viewer', scopes: ['log_management'] });
  });

  it('the last manager can neither drop user_management, nor become a device, nor be deleted or deactivated', async () => {
    await t.createUser({ username: 'boss', role: 'admin' });
    const boss = await t.login('boss');
    expect((await t.call('POST', '/api/v1/users/admin/deactivate', { cookie: boss })).statusCode).toBe(200);

    for (const payload of [
      { scopes: ['system_config', 'log_management'] },
      { kind: 'device' },
      { role: 'operator', scopes: ['log_management'] },
    ]) {
      const res = await t.call('PATCH', '/api/v1/users/boss', { cookie: boss, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(409);
      expect(res.json().code).toBe('user.last_admin');
    }
    await expect(t.services.users.deactivate(CLI_CONTEXT, 'boss')).rejects.toMatchObject({
      code: 'user.last_admin',
    });
    await expect(t.services.users.remove(CLI_CONTEXT, 'boss')).rejects.toMatchObject({
      code: 'user.last_admin',
    });
    // Once root is back, boss is no longer the last one.
    await t.services.users.reactivate(CLI_CONTEXT, 'admin');
    const drop = await t.call('PATCH', '/api/v1/users/boss', {
      cookie: boss,
      payload: { scopes: ['system_config', 'log_management'] },
    });
    expect(drop.statusCode).toBe(200);
  });

  it('admins without user_management, services and inactive admins never count', async () => {
    await t.createUser({ username: 'svc-admin', role: 'admin', kind: 'service' });
    await t.createUser({ username: 'cfg-admin', role: 'admin', scopes: ['system_config'] });
    await t.createUser({ username: 'gone-admin', role: 'admin' });
    await t.services.users.deactivate(CLI_CONTEXT, 'gone-admin');
    const res = await t.call('POST', '/api/v1/users/admin/deactivate', { cookie: root });
    expect(res.statusCode).toBe(409);
  });

  it('root keeps its kind', async () => {
    const res = await t.call('PATCH', '/api/v1/users/admin', { cookie: root, payload: { kind: 'device' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('user.protected');
  });
});

describe('acting on users who outrank the actor', () => {
  let t: TestContext;
  let root: string;
  /** An admin holding only user_management: it may manage users, but not those with more than it holds. */
  let keeper: string;
  beforeAll(async () => {
    t = await createTestContext();
    root = await t.login('admin', ROOT_PASSWORD);
    await t.createUser({ username: 'keeper', role: 'admin', scopes: ['user_management'] });
    await t.createUser({ username: 'full', role: 'admin' });
    await t.createUser({ username: 'op', role: 'operator' });
    await t.createUser({ username: 'plain', role: 'viewer' });
    keeper = await t.login('keeper');
  });
  afterAll(() => t.close());

  const attacks = (target: string) =>
    [
      ['PUT', `/api/v1/users/${target}/password`, { password: OTHER_PASSWORD }],
      ['POST', `/api/v1/users/${target}/secret`, { graceMinutes: 60 }],
      ['DELETE', `/api/v1/users/${target}/mfa`, undefined],
      ['DELETE', `/api/v1/users/${target}/sessions`, undefined],
      ['PATCH', `/api/v1/users/${target}`, { description: 'mine now' }],
      ['POST', `/api/v1/users/${target}/deactivate`, undefined],
      ['POST', `/api/v1/users/${target}/reactivate`, undefined],
      ['DELETE', `/api/v1/users/${target}`, undefined],
    ] as const;

  it('cannot reset root’s password, MFA or sessions, nor edit, deactivate or delete it: 403 naming root', async () => {
    for (const [method, url, payload] of attacks('admin')) {
      const res = await t.call(method, url, { cookie: keeper, ...(payload ? { payload } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().code, `${method} ${url}`).toMatch(/^(auth\.target_forbidden|user\.protected)$/);
    }
    const reset = await t.call('PUT', '/api/v1/users/admin/password', {
      cookie: keeper,
      payload: { password: OTHER_PASSWORD },
    });
    expect(reset.json().denial).toMatchObject({ reason: 'target', target: 'admin', why: 'root' });
    // Root's password is unchanged: the attacker cannot sign in as root.
    await t.login('admin', ROOT_PASSWORD);
    const refused = await t.call('POST', '/api/v1/auth/login', {
      payload: { username: 'admin', password: OTHER_PASSWORD },
    });
    expect(refused.statusCode).toBe(401);
  });

  it('cannot act on an admin holding more scopes, nor on an operator holding asset_management', async () => {
    for (const target of ['full', 'op']) {
      for (const [method, url, payload] of attacks(target)) {
        const res = await t.call(method, url, { cookie: keeper, ...(payload ? { payload } : {}) });
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.json().code).toBe('auth.target_forbidden');
        expect(res.json().denial).toMatchObject({ reason: 'target', target, why: 'outranks' });
      }
    }
    const res = await t.call('PUT', '/api/v1/users/full/password', {
      cookie: keeper,
      payload: { password: OTHER_PASSWORD },
    });
    expect(res.json().denial.scopes).toEqual(
      expect.arrayContaining(['system_config', 'asset_management', 'log_management']),
    );
    await t.login('full', STRONG_PASSWORD);
  });

  it('cannot end one session of a user who outranks it, by session id', async () => {
    const full = await t.login('full');
    const session = (await t.call('GET', '/api/v1/users/full/sessions', { cookie: root })).json().items[0];
    const res = await t.call('DELETE', `/api/v1/sessions/${session.id}`, { cookie: keeper });
    expect(res.statusCode).toBe(403);
    expect((await t.call('GET', '/api/v1/me', { cookie: full })).statusCode).toBe(200);
  });

  it('may act on a user it does not outrank; every refusal above is in the audit log', async () => {
    const res = await t.call('PUT', '/api/v1/users/plain/password', {
      cookie: keeper,
      payload: { password: OTHER_PASSWORD },
    });
    expect(res.statusCode).toBe(204);
    expect(await lastAudit(t, 'user.password_reset')).toMatchObject({
      outcome: 'success',
      target: 'user:plain',
    });
    const failures = (await t.services.audit.list({ actor: 'keeper', outcome: 'failure' }, 1, 250)).items;
    expect(failures.map((event) => `${event.action} ${event.target}`)).toEqual(
      expect.arrayContaining([
        'user.password_reset user:admin',
        'user.password_reset user:full',
        'user.mfa_reset user:op',
        'session.revoke user:full',
        'user.delete user:op',
      ]),
    );
    expect(failures[0]?.details).toMatchObject({ error: expect.stringMatching(/^auth\.|^user\./) });
  });

  it('an admin holding every scope manages root', async () => {
    const full = await t.login('full');
    const res = await t.call('PATCH', '/api/v1/users/admin', {
      cookie: full,
      payload: { description: 'root' },
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('403 problems say what was missing', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
    await t.createUser({ username: 'vera', role: 'viewer' });
    await t.createUser({ username: 'otto', role: 'operator' });
  });
  afterAll(() => t.close());

  it('a viewer’s write: the role it lacks; audited as access.denied', async () => {
    const vera = await t.login('vera');
    const res = await t.call('POST', '/api/v1/access-roles', {
      cookie: vera,
      payload: { name: 'x-role', rules: [] },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({
      code: 'auth.forbidden',
      denial: { reason: 'role', required: 'operator', held: 'viewer' },
    });
    expect(await lastAudit(t, 'access.denied')).toMatchObject({
      actor: { name: 'user:vera' },
      outcome: 'failure',
      target: 'route:POST /api/v1/access-roles',
      details: { denial: { reason: 'role' } },
    });
  });

  it('an operator reading the user directory: the scope it lacks (reads are not audited)', async () => {
    const otto = await t.login('otto');
    const before = (await t.services.audit.list({ action: 'access.denied' }, 1, 1)).total;
    const res = await t.call('GET', '/api/v1/users', { cookie: otto });
    expect(res.json()).toMatchObject({ denial: { reason: 'scope', anyOf: ['user_management'] } });
    expect((await t.services.audit.list({ action: 'access.denied' }, 1, 1)).total).toBe(before);
  });

  it('granting a scope not held: what could not be granted', async () => {
    await t.createUser({ username: 'half', role: 'admin', scopes: ['user_management'] });
    const half = await t.login('half');
    const res = await t.call('PATCH', '/api/v1/users/vera', {
      cookie: half,
      payload: { role: 'operator', scopes: ['asset_management'] },
    });
    expect(res.json()).toMatchObject({
      code: 'auth.forbidden',
      denial: { reason: 'grant', scopes: ['asset_management'] },
    });
  });

  it('a session held at a login step: the step', async () => {
    await t.services.users.setPassword(CLI_CONTEXT, 'otto', OTHER_PASSWORD, { mustChange: true });
    const held = await t.login('otto', OTHER_PASSWORD);
    const res = await t.call('GET', '/api/v1/access-roles', { cookie: held });
    expect(res.json()).toMatchObject({ denial: { reason: 'login_stage', stage: 'password_change' } });
    expect((await t.call('GET', '/api/v1/users')).json()).toMatchObject({
      code: 'auth.required',
      denial: { reason: 'no_session' },
    });
  });
});

describe('explaining someone else’s access', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
    await t.createUser({ username: 'vera', role: 'viewer' });
    await t.createUser({ username: 'dora', role: 'viewer' });
    await t.createUser({ username: 'otto', role: 'operator' });
    await t.services.users.deactivate(CLI_CONTEXT, 'dora');
  });
  afterAll(() => t.close());

  const explain = (cookie: string, username: string) =>
    t.call('POST', '/api/v1/access/explain', {
      cookie,
      payload: { username, action: 'publish', topic: 'a/b' },
    });

  it('a viewer may explain itself but cannot tell unknown users from deactivated ones', async () => {
    const vera = await t.login('vera');
    expect((await explain(vera, 'vera')).statusCode).toBe(200);
    expect((await explain(vera, 'VERA')).statusCode).toBe(200);
    const unknown = await explain(vera, 'ghost');
    const inactive = await explain(vera, 'dora');
    expect(unknown.statusCode).toBe(403);
    expect(inactive.statusCode).toBe(403);
    expect(unknown.json().denial).toEqual({
      reason: 'scope',
      anyOf: ['user_management', 'asset_management'],
    });
    expect(inactive.json().denial).toEqual(unknown.json().denial);
  });

  it('asset_management (or user_management) may explain anyone', async () => {
    const otto = await t.login('otto');
    expect((await explain(otto, 'dora')).json()).toMatchObject({ decision: 'deny', reason: 'user_inactive' });
    expect((await explain(otto, 'ghost')).statusCode).toBe(404);
    const root = await t.login('admin', ROOT_PASSWORD);
    expect((await explain(root, 'vera')).statusCode).toBe(200);
  });
});
