/**
 * Users' authentication method through the API (docs/sso.md#users-and-the-authentication-method): what an SSO user
 * needs, switching local → sso (the password kept but accepted nowhere: console login, MQTT, forward-auth Basic)
 * and back (a one-time password to change at the next login), root staying local, and the last-admin rule when
 * the provider of an SSO admin is disabled — on SQLite and PostgreSQL.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { ENGINES } from '../helpers/databases.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { addTestProvider } from '../helpers/sso.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

/** A problem's body without what differs per request. */
function problemShape(body: Record<string, unknown>): Record<string, unknown> {
  const { requestId: _r, instance: _i, ...rest } = body;
  return rest;
}

describe.each(ENGINES)('users: authentication method (%s)', (engine) => {
  let op: TestOidcProvider;
  let t: TestContext;
  let root: string;

  beforeAll(async () => {
    // Only its issuer is used here: provider rows point at it.
    op = await startOidcProvider({ clients: [] });
  });
  afterAll(async () => {
    await op?.stop();
  });
  beforeEach(async () => {
    t = await createTestContext({ engine });
    await addTestProvider(t.services, op);
    await addTestProvider(t.services, op, { name: 'off-op', display_name: 'Off', enabled: 0 });
    root = await t.login('admin', ROOT_PASSWORD);
  });
  afterEach(async () => {
    await t?.close();
  });

  const create = (payload: object, cookie = root) => t.call('POST', '/api/v1/users', { cookie, payload });
  const patch = (username: string, payload: object, cookie = root) =>
    t.call('PATCH', `/api/v1/users/${username}`, { cookie, payload });

  it('creates an SSO user: a person with an email and an existing provider, and no password', async () => {
    const res = await create({
      username: 'sam',
      role: 'operator',
      authMethod: 'sso',
      ssoProvider: 'test-op',
      email: 'sam@example.com',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      authMethod: 'sso',
      ssoProvider: 'test-op',
      mustChangePassword: false,
    });
    expect(res.json().generatedPassword).toBeUndefined();
    expect((await t.services.userReader.findRow('sam'))?.password_hash).toBeNull();
    // A disabled provider may be named (it signs nobody in until enabled).
    expect(
      (
        await create({
          username: 'sid',
          role: 'viewer',
          authMethod: 'sso',
          ssoProvider: 'off-op',
          email: 'sid@example.com',
        })
      ).statusCode,
    ).toBe(201);

    for (const [payload, status, code] of [
      [{ authMethod: 'sso', ssoProvider: 'test-op' }, 400, 'user.email_required'],
      [{ authMethod: 'sso', ssoProvider: 'test-op', email: 'not-an-address' }, 400, 'request.invalid'],
      [{ authMethod: 'sso', email: 'x@example.com' }, 400, 'user.sso_provider_unknown'],
      [{ authMethod: 'sso', ssoProvider: 'nope', email: 'x@example.com' }, 400, 'user.sso_provider_unknown'],
      [
        { authMethod: 'sso', ssoProvider: 'test-op', email: 'x@example.com', password: STRONG_PASSWORD },
        400,
        'user.sso_password',
      ],
      [
        { authMethod: 'sso', ssoProvider: 'test-op', email: 'x@example.com', kind: 'device' },
        400,
        'user.auth_method_invalid',
      ],
      [{ authMethod: 'local', ssoProvider: 'test-op' }, 400, 'user.auth_method_invalid'],
      [{ ssoProvider: 'test-op', password: STRONG_PASSWORD }, 400, 'user.auth_method_invalid'],
    ] as const) {
      const refused = await create({ username: 'x-user', role: 'viewer', ...payload });
      expect(refused.statusCode, JSON.stringify(payload)).toBe(status);
      expect(refused.json().code, JSON.stringify(payload)).toBe(code);
    }
    expect(await t.services.userReader.findRow('x-user')).toBeUndefined();
  });

  it('local → sso: sessions end and the kept password is accepted nowhere, refused like a wrong one', async () => {
    await t.createUser({ username: 'lisa', email: 'lisa@example.com', role: 'operator' });
    const session = await t.login('lisa');
    const hashBefore = (await t.services.userReader.findRow('lisa'))?.password_hash;

    const res = await patch('lisa', { authMethod: 'sso', ssoProvider: 'test-op' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ authMethod: 'sso', ssoProvider: 'test-op' });
    expect((await t.call('GET', '/api/v1/me', { cookie: session })).statusCode).toBe(401);
    // Kept (a switch back does not revive it, but nothing is destroyed behind the admin's back) …
    expect((await t.services.userReader.findRow('lisa'))?.password_hash).toBe(hashBefore);
    const [update] = (await t.services.audit.list({ action: 'user.update', target: 'user:lisa' }, 1, 5))
      .items;
    expect(update?.details).toMatchObject({
      before: { authMethod: 'local', ssoProvider: null },
      after: { authMethod: 'sso', ssoProvider: 'test-op' },
      sessionsEnded: 1,
    });

    // … but refused: the console login answers exactly as for a wrong password.
    const withKept = await t.call('POST', '/api/v1/auth/login', {
      payload: { username: 'lisa', password: STRONG_PASSWORD },
    });
    const wrong = await t.call('POST', '/api/v1/auth/login', {
      payload: { username: 'lisa', password: 'Wr0ng-Passw0rd!' },
    });
    expect(withKept.statusCode).toBe(401);
    expect(problemShape(withKept.json())).toEqual(problemShape(wrong.json()));
    const reasons = (
      await t.services.audit.list({ action: 'auth.login', target: 'user:lisa' }, 1, 5)
    ).items.map((event) => event.details.reason);
    expect(reasons).toContain('sso_user');

    // MQTT CONNECT with the password.
    const mqtt = await t.services.mqttAuth.authenticate({
      username: 'lisa',
      password: Buffer.from(STRONG_PASSWORD),
      clientId: 'lisa-1',
      ip: '127.0.0.1',
    });
    expect(mqtt).toMatchObject({ ok: false, reason: 'bad_credentials' });
    const [connect] = (await t.services.audit.list({ action: 'mqtt.connect', target: 'user:lisa' }, 1, 5))
      .items;
    expect(connect?.details.reason).toBe('sso_user');

    // Forward-auth with HTTP Basic.
    const basic = await t.app.inject({
      method: 'GET',
      url: '/api/v1/forward-auth',
      headers: {
        'x-original-method': 'GET',
        'x-original-uri': '/grafana/',
        authorization: `Basic ${Buffer.from(`lisa:${STRONG_PASSWORD}`).toString('base64')}`,
      },
    });
    expect(basic.statusCode).toBe(401);

    // No password can be set for an SSO user, nor changed by it.
    const reset = await t.call('PUT', '/api/v1/users/lisa/password', {
      cookie: root,
      payload: { password: STRONG_PASSWORD },
    });
    expect(reset.statusCode).toBe(400);
    expect(reset.json().code).toBe('user.sso_password');
    const row = await t.services.userReader.findRow('lisa');
    await expect(
      t.services.users.changeOwnPassword(
        {
          actor: {
            type: 'user',
            userId: row?.id as string,
            username: 'lisa',
            role: 'operator',
            scopes: [],
            sessionId: 's',
          },
          ip: '',
          requestId: '',
        },
        STRONG_PASSWORD,
        'An0ther-Passw0rd!',
      ),
    ).rejects.toMatchObject({ code: 'user.sso_password' });
  });

  it('sso → local: a one-time password, answered once, to be changed at the next login; the kept one stays dead', async () => {
    await t.createUser({ username: 'lisa', email: 'lisa@example.com' });
    expect((await patch('lisa', { authMethod: 'sso', ssoProvider: 'test-op' })).statusCode).toBe(200);
    const res = await patch('lisa', { authMethod: 'local' });
    expect(res.statusCode).toBe(200);
    const { generatedPassword, ...user } = res.json();
    expect(generatedPassword).toMatch(/^\S{20,}$/);
    // The provider is kept so one sees where the user came from.
    expect(user).toMatchObject({ authMethod: 'local', ssoProvider: 'test-op', mustChangePassword: true });
    expect(
      (
        await t.call('POST', '/api/v1/auth/login', {
          payload: { username: 'lisa', password: STRONG_PASSWORD },
        })
      ).statusCode,
    ).toBe(401);
    const login = await t.call('POST', '/api/v1/auth/login', {
      payload: { username: 'lisa', password: generatedPassword },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json().next).toBe('password_change');
    const [update] = (await t.services.audit.list({ action: 'user.update', target: 'user:lisa' }, 1, 5))
      .items;
    expect(update?.details).toMatchObject({ generated: true, after: { authMethod: 'local' } });
    expect(JSON.stringify(update?.details)).not.toContain(generatedPassword);
    // An edit that does not switch answers no password.
    expect((await patch('lisa', { description: 'back' })).json().generatedPassword).toBeUndefined();
  });

  it('an SSO user stays a person with an email; a new provider drops the link to the old one’s subject', async () => {
    await t.services.users.createSso(CLI_CONTEXT, {
      username: 'sam',
      email: 'sam@example.com',
      role: 'viewer',
      authMethod: 'sso',
      ssoProvider: 'test-op',
    });
    const row = await t.services.userReader.findRow('sam');
    await t.services.infra.db
      .transaction()
      .execute((trx) => t.services.users.linkSsoSubject(trx, row as never, 'sub-sam'));
    for (const [payload, code] of [
      [{ email: null }, 'user.email_required'],
      [{ kind: 'service' }, 'user.auth_method_invalid'],
      [{ ssoProvider: 'nope' }, 'user.sso_provider_unknown'],
      [{ authMethod: 'local', ssoProvider: 'test-op' }, 'user.auth_method_invalid'],
    ] as const) {
      const refused = await patch('sam', payload);
      expect(refused.statusCode, JSON.stringify(payload)).toBe(400);
      expect(refused.json().code, JSON.stringify(payload)).toBe(code);
    }
    expect((await patch('sam', { ssoProvider: 'test-op', description: 'same provider' })).statusCode).toBe(
      200,
    );
    expect((await t.services.userReader.findRow('sam'))?.sso_subject).toBe('sub-sam');
    expect((await patch('sam', { ssoProvider: 'off-op' })).statusCode).toBe(200);
    expect(await t.services.userReader.findRow('sam')).toMatchObject({
      sso_provider: 'off-op',
      sso_subject: null,
    });
  });

  it('root stays local; only user managers change the method', async () => {
    const refused = await patch('admin', { authMethod: 'sso', ssoProvider: 'test-op' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('user.protected');
    await t.services.users.update(CLI_CONTEXT, 'admin', { email: 'root@example.com' });
    expect((await patch('admin', { authMethod: 'sso', ssoProvider: 'test-op' })).json().code).toBe(
      'user.protected',
    );

    await t.createUser({ username: 'otto', role: 'operator', scopes: ['asset_management'] });
    await t.createUser({ username: 'vic', email: 'vic@example.com' });
    const otto = await t.login('otto');
    const byOperator = await patch('vic', { authMethod: 'sso', ssoProvider: 'test-op' }, otto);
    expect(byOperator.statusCode).toBe(403);
    expect((await t.services.users.get('vic')).authMethod).toBe('local');
  });

  it('the last admin who can manage users cannot switch to a disabled provider (409 user.last_admin)', async () => {
    await t.createUser({ username: 'ann', email: 'ann@example.com', role: 'admin' });
    await t.services.users.deactivate(CLI_CONTEXT, 'admin');
    const ann = await t.login('ann');

    const refused = await patch('ann', { authMethod: 'sso', ssoProvider: 'off-op' }, ann);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('user.last_admin');
    expect((await t.services.users.get('ann')).authMethod).toBe('local');
    const [audited] = (await t.services.audit.list({ action: 'user.update', target: 'user:ann' }, 1, 5))
      .items;
    expect(audited).toMatchObject({ outcome: 'failure', details: { error: 'user.last_admin' } });

    // An enabled provider signs her in: she counts, and her own session stays (the others would end).
    const switched = await patch('ann', { authMethod: 'sso', ssoProvider: 'test-op' }, ann);
    expect(switched.statusCode).toBe(200);
    expect((await t.call('GET', '/api/v1/me', { cookie: ann })).statusCode).toBe(200);
    // Still the last one: moving her to the disabled provider now is refused too.
    expect((await patch('ann', { ssoProvider: 'off-op' }, ann)).json().code).toBe('user.last_admin');
    // And reactivating root, then switching is fine (root can sign in).
    await t.services.users.reactivate(CLI_CONTEXT, 'admin');
    expect((await patch('ann', { ssoProvider: 'off-op' }, ann)).statusCode).toBe(200);
  });
});
