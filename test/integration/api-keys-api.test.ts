import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import type { Scope } from '../../src/modules/permissions/permissions.policy.js';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

interface CreatedKey {
  id: string;
  name: string;
  key: string;
  owner: string;
  role: string;
  scopes: string[];
}

/** Calls the API with `Authorization: Bearer <key>` from `remoteAddress`. */
function withKey(
  t: TestContext,
  key: string,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  options: { payload?: object; headers?: Record<string, string>; remoteAddress?: string } = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${key}`, ...options.headers },
    remoteAddress: options.remoteAddress ?? '192.0.2.50',
    ...(options.payload ? { payload: options.payload } : {}),
  });
}

async function createKey(t: TestContext, cookie: string, body: object): Promise<CreatedKey> {
  const res = await t.call('POST', '/api/v1/api-keys', { cookie, payload: body });
  if (res.statusCode !== 201) throw new Error(`create key: ${res.statusCode} ${res.body}`);
  return res.json() as CreatedKey;
}

/** The answer without the parts that differ per request. */
function sameShape(res: LightMyRequestResponse): unknown {
  const { requestId: _r, instance: _i, ...rest } = res.json() as Record<string, unknown>;
  return { status: res.statusCode, headers: res.headers['content-type'], ...rest };
}

const ALL_ADMIN_SCOPES: Scope[] = [
  'system_config',
  'asset_management',
  'user_management',
  'log_management',
  'api_key_management',
  'sso_management',
];

describe.each(ENGINES)('API keys (%s)', (engine) => {
  let t: TestContext;
  let root: string;
  beforeEach(async () => {
    t = await createTestContext({ engine });
    root = await t.login('admin', ROOT_PASSWORD);
  });
  afterEach(() => t.close());

  it('answers the key once at creation and never again; the record holds only its keyed hash', async () => {
    const created = await createKey(t, root, {
      name: 'deploy',
      description: 'CI pipeline',
      role: 'operator',
      scopes: ['asset_management'],
    });
    expect(created.key).toMatch(/^wdn_[0-9a-f]{24}_[A-Za-z0-9_-]{43}$/);
    expect(created.key).toContain(created.id);
    expect(created).toMatchObject({
      name: 'deploy',
      description: 'CI pipeline',
      owner: 'admin',
      role: 'operator',
      scopes: ['asset_management'],
      enabled: true,
      expiresAt: null,
      lastUsedAt: null,
      createdBy: 'user:admin',
    });
    const secret = created.key.split('_').slice(2).join('_');
    for (const url of [
      '/api/v1/api-keys',
      `/api/v1/api-keys/${created.id}`,
      '/api/v1/api-keys?owner=admin',
    ]) {
      const res = await t.call('GET', url, { cookie: root });
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain(secret);
      expect(res.body).not.toMatch(/"key"|hash/i);
    }
    const row = await t.database.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(row.secret_hash).toMatch(/^\$warden-hmac-sha256\$v=1\$/);
    expect(JSON.stringify(row)).not.toContain(secret);
    const [event] = (await t.services.audit.list({ action: 'api_key.create' }, 1, 25)).items;
    expect(event).toMatchObject({ target: `api_key:${created.id}`, actor: { name: 'user:admin' } });
    expect(JSON.stringify(event)).not.toContain(secret);
  });

  it('lists keys paged and by owner; reading them needs api_key_management', async () => {
    await t.createUser({ username: 'svc-backup', kind: 'service', role: 'operator' });
    await createKey(t, root, { name: 'a', role: 'viewer', scopes: [] });
    await createKey(t, root, { name: 'b', owner: 'svc-backup', role: 'viewer', scopes: [] });
    const all = (await t.call('GET', '/api/v1/api-keys?pageSize=25', { cookie: root })).json();
    expect(all).toMatchObject({ total: 2, page: 1, pageSize: 25 });
    const mine = (await t.call('GET', '/api/v1/api-keys?owner=SVC-backup', { cookie: root })).json();
    expect(mine.items.map((k: CreatedKey) => k.name)).toEqual(['b']);

    await t.createUser({ username: 'ada', role: 'admin', scopes: ['user_management', 'log_management'] });
    const ada = await t.login('ada');
    const refused = await t.call('GET', '/api/v1/api-keys', { cookie: ada });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().denial).toEqual({ reason: 'scope', anyOf: ['api_key_management'] });
  });

  it('works on the routes its rights allow and gets the guard’s denial elsewhere', async () => {
    const { key } = await createKey(t, root, {
      name: 'assets',
      role: 'operator',
      scopes: ['asset_management'],
    });
    const write = await withKey(t, key, 'POST', '/api/v1/access-roles', { payload: { name: 'sensors' } });
    expect(write.statusCode).toBe(201);
    const users = await withKey(t, key, 'GET', '/api/v1/users');
    expect(users.statusCode).toBe(403);
    expect(users.json()).toMatchObject({
      code: 'auth.forbidden',
      denial: { reason: 'scope', anyOf: ['user_management'] },
    });
    const keys = await withKey(t, key, 'GET', '/api/v1/api-keys');
    expect(keys.json().denial).toEqual({ reason: 'scope', anyOf: ['api_key_management'] });
  });

  it('a viewer-role key cannot write', async () => {
    const { key } = await createKey(t, root, { name: 'reader', role: 'viewer', scopes: ['log_management'] });
    expect((await withKey(t, key, 'GET', '/api/v1/audit')).statusCode).toBe(200);
    const res = await withKey(t, key, 'POST', '/api/v1/access-roles', { payload: { name: 'sensors' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().denial).toEqual({ reason: 'role', required: 'operator', held: 'viewer' });
  });

  it('never exceeds its creator: role and scopes the creator lacks are refused', async () => {
    await t.createUser({ username: 'kim', role: 'admin', scopes: ['api_key_management', 'log_management'] });
    const kim = await t.login('kim');
    const scope = await t.call('POST', '/api/v1/api-keys', {
      cookie: kim,
      payload: { name: 'x', role: 'admin', scopes: ['user_management'] },
    });
    expect(scope.statusCode).toBe(403);
    expect(scope.json()).toMatchObject({
      code: 'auth.forbidden',
      denial: { reason: 'grant', scopes: ['user_management'] },
    });
    // A key acting as creator: its own (reduced) rights bound what it may hand out.
    const { key } = await createKey(t, root, {
      name: 'key-maker',
      role: 'operator',
      scopes: ['asset_management'],
    });
    const viaKey = await withKey(t, key, 'POST', '/api/v1/api-keys', {
      payload: { name: 'y', role: 'admin', scopes: [] },
    });
    expect(viaKey.statusCode).toBe(403);
    expect(viaKey.json().denial).toEqual({ reason: 'scope', anyOf: ['api_key_management'] });
    const { key: limited } = await createKey(t, root, {
      name: 'limited-admin',
      role: 'admin',
      scopes: ['api_key_management'],
    });
    const escalate = await withKey(t, limited, 'POST', '/api/v1/api-keys', {
      payload: { name: 'z', role: 'admin', scopes: ['api_key_management', 'system_config'] },
    });
    expect(escalate.statusCode).toBe(403);
    expect(escalate.json().denial).toEqual({ reason: 'grant', scopes: ['system_config'] });
    // Nor beyond its owner, whom it acts for.
    await t.createUser({ username: 'svc-report', kind: 'service', role: 'viewer' });
    const owner = await t.call('POST', '/api/v1/api-keys', {
      cookie: root,
      payload: { name: 'w', owner: 'svc-report', role: 'operator', scopes: [] },
    });
    expect(owner.statusCode).toBe(400);
    expect(owner.json().code).toBe('api_key.exceeds_owner');
    const incompatible = await t.call('POST', '/api/v1/api-keys', {
      cookie: root,
      payload: { name: 'v', role: 'viewer', scopes: ['user_management'] },
    });
    expect(incompatible.json().code).toBe('api_key.scopes_incompatible');
    const grantAudit = await t.services.audit.list({ action: 'api_key.create', outcome: 'failure' }, 1, 25);
    expect(grantAudit.items.length).toBeGreaterThanOrEqual(2);
  });

  it('a key for another user needs user_management and may not outrank the creator’s reach', async () => {
    await t.createUser({ username: 'kim', role: 'admin', scopes: ['api_key_management'] });
    await t.createUser({ username: 'svc-etl', kind: 'service', role: 'viewer' });
    const kim = await t.login('kim');
    const res = await t.call('POST', '/api/v1/api-keys', {
      cookie: kim,
      payload: { name: 'x', owner: 'svc-etl', role: 'viewer', scopes: [] },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().denial).toEqual({ reason: 'scope', anyOf: ['user_management'] });
    await t.createUser({
      username: 'lee',
      role: 'admin',
      scopes: ['api_key_management', 'user_management'],
    });
    const lee = await t.login('lee');
    const onRoot = await t.call('POST', '/api/v1/api-keys', {
      cookie: lee,
      payload: { name: 'x', owner: 'admin', role: 'viewer', scopes: [] },
    });
    expect(onRoot.statusCode).toBe(403);
    expect(onRoot.json()).toMatchObject({ code: 'auth.target_forbidden', denial: { why: 'root' } });
    await t.createUser({ username: 'plc-1', kind: 'device', role: 'viewer' });
    const onDevice = await t.call('POST', '/api/v1/api-keys', {
      cookie: root,
      payload: { name: 'x', owner: 'plc-1', role: 'viewer', scopes: [] },
    });
    expect(onDevice.json().code).toBe('api_key.owner_not_allowed');
  });

  it('follows its owner: demoted → reduced at the next request; deactivated or deleted → 401', async () => {
    await t.createUser({ username: 'bob', role: 'admin', scopes: ALL_ADMIN_SCOPES.slice(0, 5) });
    const bob = await t.login('bob');
    const { key } = await createKey(t, bob, {
      name: 'ops',
      role: 'admin',
      scopes: ['user_management', 'asset_management'],
    });
    expect((await withKey(t, key, 'GET', '/api/v1/users')).statusCode).toBe(200);
    await t.services.users.update(CLI_CONTEXT, 'bob', { role: 'operator', scopes: ['asset_management'] });
    const reduced = await withKey(t, key, 'GET', '/api/v1/users');
    expect(reduced.statusCode).toBe(403);
    expect(reduced.json().denial).toEqual({ reason: 'scope', anyOf: ['user_management'] });
    const me = (await withKey(t, key, 'GET', '/api/v1/me')).json();
    expect(me).toMatchObject({ user: { username: 'bob', role: 'operator', scopes: ['asset_management'] } });

    await t.services.users.deactivate(CLI_CONTEXT, 'bob');
    expect((await withKey(t, key, 'GET', '/api/v1/me')).statusCode).toBe(401);
    await t.services.users.reactivate(CLI_CONTEXT, 'bob');
    expect((await withKey(t, key, 'GET', '/api/v1/me')).statusCode).toBe(200);
    await t.services.users.remove(CLI_CONTEXT, 'bob');
    expect((await withKey(t, key, 'GET', '/api/v1/me')).statusCode).toBe(401);
  });

  it('stops at once when disabled, deleted or expired (manual clock)', async () => {
    const expiresAt = new Date(t.clock.now() + 3_600_000).toISOString();
    const { id, key } = await createKey(t, root, { name: 'tmp', role: 'viewer', scopes: [], expiresAt });
    expect((await withKey(t, key, 'GET', '/api/v1/me')).statusCode).toBe(200);
    const off = await t.call('PATCH', `/api/v1/api-keys/${id}`, {
      cookie: root,
      payload: { enabled: false },
    });
    expect(off.json()).toMatchObject({ enabled: false });
    expect((await withKey(t, key, 'GET', '/api/v1/me')).statusCode).toBe(401);
    await t.call('PATCH', `/api/v1/api-keys/${id}`, { cookie: root, payload: { enabled: true } });
    expect((await withKey(t, key, 'GET', '/api/v1/me')).statusCode).toBe(200);
    t.clock.advance(3_600_000);
    // The console session idled out meanwhile; the key's expiry is what this is about.
    root = await t.login('admin', ROOT_PASSWORD);
    expect((await withKey(t, key, 'GET', '/api/v1/me')).statusCode).toBe(401);
    const past = await t.call('PATCH', `/api/v1/api-keys/${id}`, {
      cookie: root,
      payload: { expiresAt: new Date(t.clock.now() - 1).toISOString() },
    });
    expect(past.json().code).toBe('api_key.expiry_in_past');
    await t.call('PATCH', `/api/v1/api-keys/${id}`, { cookie: root, payload: { expiresAt: null } });
    expect((await withKey(t, key, 'GET', '/api/v1/me')).statusCode).toBe(200);
    expect((await t.call('DELETE', `/api/v1/api-keys/${id}`, { cookie: root })).statusCode).toBe(204);
    expect((await withKey(t, key, 'GET', '/api/v1/me')).statusCode).toBe(401);
    expect((await t.call('GET', `/api/v1/api-keys/${id}`, { cookie: root })).statusCode).toBe(404);
    const actions = (await t.services.audit.list({ target: `api_key:${id}` }, 1, 25)).items.map(
      (e) => e.action,
    );
    expect(actions).toEqual(expect.arrayContaining(['api_key.create', 'api_key.update', 'api_key.delete']));
  });

  it('answers every kind of bad key with the same 401', async () => {
    const good = await createKey(t, root, { name: 'good', role: 'viewer', scopes: [] });
    const revoked = await createKey(t, root, { name: 'revoked', role: 'viewer', scopes: [] });
    await t.call('DELETE', `/api/v1/api-keys/${revoked.id}`, { cookie: root });
    const disabled = await createKey(t, root, { name: 'off', role: 'viewer', scopes: [], enabled: false });
    const expiring = await createKey(t, root, {
      name: 'old',
      role: 'viewer',
      scopes: [],
      expiresAt: new Date(t.clock.now() + 1000).toISOString(),
    });
    await t.createUser({ username: 'svc-gone', kind: 'service', role: 'viewer' });
    const orphan = await createKey(t, root, {
      name: 'orphan',
      owner: 'svc-gone',
      role: 'viewer',
      scopes: [],
    });
    await t.services.users.deactivate(CLI_CONTEXT, 'svc-gone');
    t.clock.advance(1000);
    // A key of another Warden (another secret key and database): well formed, unknown here.
    const other = await createTestContext({ engine });
    const foreignRoot = await other.login('admin', ROOT_PASSWORD);
    const foreign = await createKey(other, foreignRoot, { name: 'elsewhere', role: 'viewer', scopes: [] });
    await other.close();
    const wrongSecret = `${good.key.slice(0, -4)}${good.key.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    const variants = [
      'not-a-key',
      'wdn_',
      good.key.slice(0, -1),
      `${good.key}x`,
      wrongSecret,
      `wdn_${'0'.repeat(24)}_${good.key.slice(-43)}`,
      revoked.key,
      disabled.key,
      expiring.key,
      orphan.key,
      foreign.key,
    ];
    const answers = [];
    for (const variant of variants) {
      answers.push(
        sameShape(await withKey(t, variant, 'GET', '/api/v1/me', { remoteAddress: '198.51.100.9' })),
      );
    }
    const [first] = answers;
    expect(first).toMatchObject({ status: 401, code: 'auth.invalid_api_key' });
    for (const answer of answers) expect(answer).toEqual(first);
    expect((await withKey(t, good.key, 'GET', '/api/v1/me')).statusCode).toBe(200);
  });

  it('refuses a request with both a session cookie and a key', async () => {
    const { key } = await createKey(t, root, { name: 'k', role: 'viewer', scopes: [] });
    const res = await withKey(t, key, 'GET', '/api/v1/me', { headers: { cookie: root } });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('auth.ambiguous_credentials');
  });

  it('is not subject to the cross-site check (no cookie, nothing to forge)', async () => {
    const { key } = await createKey(t, root, { name: 'k', role: 'operator', scopes: ['asset_management'] });
    const res = await withKey(t, key, 'POST', '/api/v1/access-roles', {
      payload: { name: 'remote' },
      headers: { origin: 'https://elsewhere.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(res.statusCode).toBe(201);
    const withCookie = await t.call('POST', '/api/v1/access-roles', {
      cookie: root,
      payload: { name: 'remote2' },
      headers: { origin: 'https://elsewhere.example' },
    });
    expect(withCookie.json().code).toBe('auth.cross_site');
  });

  it('throttles repeated bad keys per address, never valid keys from other addresses', async () => {
    const security = await t.services.settings.getSecurity();
    await t.services.settings.putSecurity(CLI_CONTEXT, {
      ...security,
      throttle: { ...security.throttle, maxAttemptsPerIp: 3 },
    });
    const { key } = await createKey(t, root, { name: 'k', role: 'viewer', scopes: [] });
    const attacker = { remoteAddress: '203.0.113.66' };
    for (let i = 0; i < 3; i += 1) {
      expect(
        (await withKey(t, `wdn_${'a'.repeat(24)}_${'b'.repeat(43)}`, 'GET', '/api/v1/me', attacker))
          .statusCode,
      ).toBe(401);
    }
    const blocked = await withKey(t, 'wdn_bad', 'GET', '/api/v1/me', attacker);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('auth.throttled');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await withKey(t, key, 'GET', '/api/v1/me', attacker)).statusCode).toBe(429);
    expect((await withKey(t, key, 'GET', '/api/v1/me', { remoteAddress: '192.0.2.77' })).statusCode).toBe(
      200,
    );
    // The console's sign-in budget of that address is untouched.
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: ROOT_PASSWORD },
      ...attacker,
    });
    expect(login.statusCode).toBe(200);
    t.clock.advance(security.throttle.windowMinutes * 60_000);
    expect((await withKey(t, key, 'GET', '/api/v1/me', attacker)).statusCode).toBe(200);
  });

  it('refuses self-service; /me answers for the owner with the key’s effective rights', async () => {
    const { key } = await createKey(t, root, { name: 'k', role: 'operator', scopes: ['asset_management'] });
    const refusals: Array<[method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object]> = [
      ['PUT', '/api/v1/me/password', { currentPassword: ROOT_PASSWORD, password: STRONG_PASSWORD }],
      ['POST', '/api/v1/me/mfa/totp'],
      ['DELETE', '/api/v1/me/mfa', { password: ROOT_PASSWORD }],
      ['GET', '/api/v1/me/sessions'],
      ['DELETE', '/api/v1/me/sessions'],
      ['POST', '/api/v1/auth/logout'],
      ['POST', '/api/v1/auth/mfa', { code: '123456' }],
    ];
    for (const [method, url, payload] of refusals) {
      const res = await withKey(t, key, method, url, payload ? { payload } : {});
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json()).toMatchObject({ code: 'auth.session_required', denial: { reason: 'session_only' } });
    }
    expect((await withKey(t, key, 'GET', '/api/v1/settings/password-policy')).statusCode).toBe(200);
    const me = await withKey(t, key, 'GET', '/api/v1/me');
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({
      user: { username: 'admin', role: 'operator', scopes: ['asset_management'] },
      next: null,
    });
  });

  it('audits requests made with a key as apikey:<id> with its owner', async () => {
    await t.createUser({ username: 'svc-ci', kind: 'service', role: 'operator' });
    const { id, key } = await createKey(t, root, {
      name: 'ci',
      owner: 'svc-ci',
      role: 'operator',
      scopes: ['asset_management'],
    });
    expect(
      (await withKey(t, key, 'POST', '/api/v1/access-roles', { payload: { name: 'lines' } })).statusCode,
    ).toBe(201);
    const [event] = (await t.services.audit.list({ action: 'access_role.create' }, 1, 25)).items;
    expect(event).toMatchObject({
      actor: { type: 'apikey', name: `apikey:${id}` },
      details: { keyOwner: 'svc-ci' },
    });
    const denied = await withKey(t, key, 'DELETE', '/api/v1/users/admin');
    expect(denied.statusCode).toBe(403);
    const [refusal] = (await t.services.audit.list({ action: 'access.denied' }, 1, 25)).items;
    expect(refusal).toMatchObject({ actor: { name: `apikey:${id}` }, details: { keyOwner: 'svc-ci' } });
    // The service account itself still never signs in to the console.
    const login = await t.call('POST', '/api/v1/auth/login', {
      payload: { username: 'svc-ci', password: STRONG_PASSWORD },
    });
    expect(login.statusCode).toBe(401);
  });

  it('keeps lastUsedAt in memory and writes it in a batch', async () => {
    const { id, key } = await createKey(t, root, { name: 'k', role: 'viewer', scopes: [] });
    const usedAt = t.clock.now();
    expect((await withKey(t, key, 'GET', '/api/v1/me')).statusCode).toBe(200);
    const before = (await t.call('GET', `/api/v1/api-keys/${id}`, { cookie: root })).json();
    expect(before.lastUsedAt).toBeNull();
    await t.services.apiKeys.flushLastUsed();
    const after = (await t.call('GET', `/api/v1/api-keys/${id}`, { cookie: root })).json();
    expect(after.lastUsedAt).toBe(new Date(usedAt).toISOString());
  });
});
