// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule paths spell the placeholder ${username} literally
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRuleJson } from '../../src/modules/access-roles/access-roles.schemas.js';
import { createBasicCredentials } from '../../src/modules/forward-auth/basic-credentials.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, enrolTotp, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

const RULES: AccessRuleJson[] = [
  { permission: 'deny', action: 'http', path: '/grafana/admin/**' },
  { permission: 'allow', action: 'http', methods: ['GET', 'HEAD'], path: '/grafana/**' },
  { permission: 'allow', action: 'http', path: '/home/${username}/**' },
  { permission: 'allow', action: 'all', topic: '#' },
];

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

describe.each(ENGINES)('forward-auth (%s)', (engine) => {
  let t: TestContext;
  let alice: string;

  /** One forward-auth request as nginx sends it, with extra headers (cookie, Authorization …). */
  const ask = (method: string, uri: string, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'GET',
      url: '/api/v1/forward-auth',
      headers: { 'x-original-method': method, 'x-original-uri': uri, ...headers },
    });

  beforeAll(async () => {
    t = await createTestContext({ engine });
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'web',
      rules: RULES.map((rule) => ({ ...rule })),
    });
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'ops',
      rules: [{ permission: 'allow', action: 'http', path: '/ops/**' }],
    });
    await t.createUser({ username: 'alice', role: 'viewer', accessRoles: ['web', 'ops'] });
    await t.createUser({ username: 'bob', role: 'viewer', accessRoles: ['web'] });
    await t.createUser({ username: 'svc-1', kind: 'service', accessRoles: ['web'] });
    await t.createUser({ username: 'dev-1', kind: 'device', accessRoles: ['web'] });
    alice = await t.login('alice');
  });
  afterAll(() => t.close());

  it('a session whose user a rule allows: 200 with X-Warden-User and the role that allowed', async () => {
    const res = await ask('GET', '/grafana/d/abc?orgId=1', { cookie: alice });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-warden-user']).toBe('alice');
    expect(res.headers['x-warden-role']).toBe('web');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ username: 'alice', role: 'web' });
    const ops = await ask('POST', '/ops/deploy', { cookie: alice });
    expect(ops.statusCode).toBe(200);
    expect(ops.headers['x-warden-role']).toBe('ops');
    const home = await ask('DELETE', '/home/alice/notes/1', { cookie: alice });
    expect(home.headers['x-warden-role']).toBe('web');
  });

  it('a valid identity without an allowing rule: 403, whatever spelling the path takes', async () => {
    for (const [method, uri] of [
      ['POST', '/grafana/api/x'],
      ['GET', '/grafana/admin/users'],
      ['GET', '//grafana/admin'],
      ['GET', '/grafana/%61dmin/'],
      ['GET', '/home/bob/notes'],
      ['GET', '/grafana/../ops/x'],
      ['GET', '/grafana/%2e%2e/admin'],
      ['GET', '/grafana%2fadmin'],
      ['GET', '/elsewhere'],
    ]) {
      const res = await ask(method as string, uri as string, { cookie: alice });
      expect(res.statusCode, `${method} ${uri}`).toBe(403);
      expect(res.json().code).toBe('forward_auth.denied');
      expect(res.headers['x-warden-user']).toBeUndefined();
    }
  });

  it('no identity: 401 with the denial no_forwarded_identity', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer wdn_0123456789abcdef' },
      { authorization: 'Bearer ' },
      { authorization: 'Basic' },
    ] as Record<string, string>[]) {
      const res = await ask('GET', '/grafana/', headers);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({
        code: 'auth.required',
        denial: { reason: 'no_forwarded_identity' },
      });
    }
    // Invalid credentials are not rescued by a session cookie that comes along.
    const both = await ask('GET', '/grafana/', { cookie: alice, authorization: basic('alice', 'wrong') });
    expect(both.statusCode).toBe(401);
  });

  it('without the proxy headers (or with two pairs that disagree) it is a 400 problem, never an allow', async () => {
    const bare = await t.app.inject({
      method: 'GET',
      url: '/api/v1/forward-auth',
      headers: { cookie: alice },
    });
    expect(bare.statusCode).toBe(400);
    expect(bare.json().code).toBe('forward_auth.missing_headers');
    for (const headers of [
      { 'x-original-method': 'GET' },
      { 'x-original-uri': '/grafana/' },
      { 'x-original-method': 'G E T', 'x-original-uri': '/grafana/' },
      // a client adding its own X-Forwarded-Uri behind nginx (or X-Original-URI behind Traefik)
      {
        'x-original-method': 'GET',
        'x-original-uri': '/grafana/admin',
        'x-forwarded-method': 'GET',
        'x-forwarded-uri': '/grafana/',
      },
    ]) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/api/v1/forward-auth',
        headers: { cookie: alice, ...headers },
      });
      expect(res.statusCode, JSON.stringify(headers)).toBe(400);
      expect(res.json().code).toBe('forward_auth.missing_headers');
    }
  });

  it('Traefik and Caddy headers (X-Forwarded-Method, X-Forwarded-Uri, X-Forwarded-Host) work alike', async () => {
    const headers = {
      cookie: alice,
      'x-forwarded-method': 'GET',
      'x-forwarded-uri': '/grafana/d/x',
      'x-forwarded-host': 'apps.example.com',
      'x-forwarded-proto': 'https',
    };
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/forward-auth', headers });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-warden-user']).toBe('alice');
    const denied = await t.app.inject({
      method: 'GET',
      url: '/api/v1/forward-auth',
      headers: { ...headers, 'x-forwarded-method': 'PUT' },
    });
    expect(denied.statusCode).toBe(403);
  });

  it('HTTP Basic with a Warden password: people and services, never devices; wrong passwords are 401', async () => {
    const ok = await ask('GET', '/grafana/', { authorization: basic('bob', STRONG_PASSWORD) });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['x-warden-user']).toBe('bob');
    // the username as stored, whatever case the client sent
    const upper = await ask('GET', '/home/bob/x', { authorization: basic('BOB', STRONG_PASSWORD) });
    expect(upper.statusCode).toBe(200);
    expect(upper.headers['x-warden-user']).toBe('bob');
    expect(
      (await ask('GET', '/grafana/', { authorization: basic('svc-1', STRONG_PASSWORD) })).statusCode,
    ).toBe(200);
    for (const authorization of [
      basic('dev-1', STRONG_PASSWORD),
      basic('bob', 'not-the-password'),
      basic('nobody', STRONG_PASSWORD),
      'Basic !!!not-base64',
    ]) {
      const res = await ask('GET', '/grafana/', { authorization });
      expect(res.statusCode, authorization).toBe(401);
    }
  });

  it('a user with MFA enrolled cannot use Basic (401), but its complete session works', async () => {
    await t.createUser({ username: 'mia', role: 'viewer', accessRoles: ['web'] });
    const { cookie } = await enrolTotp(t, await t.login('mia'));
    expect((await ask('GET', '/grafana/', { cookie })).statusCode).toBe(200);
    const res = await ask('GET', '/grafana/', { authorization: basic('mia', STRONG_PASSWORD) });
    expect(res.statusCode).toBe(401);
    // A session still held at the MFA step is no identity either.
    const held = await t.login('mia');
    expect((await ask('GET', '/grafana/', { cookie: held })).statusCode).toBe(401);
  });

  it("an API key is its owner's identity, authenticated as on the API: disable and expiry apply at once", async () => {
    const created = await t.services.apiKeys.create(CLI_CONTEXT, {
      name: 'proxy-check',
      owner: 'svc-1',
      role: 'viewer',
      scopes: [],
      expiresAt: new Date(t.clock.now() + 3_600_000).toISOString(),
    });
    const bearer = { authorization: `Bearer ${created.key}` };
    const allowed = await ask('GET', '/grafana/d/1', bearer);
    expect(allowed.statusCode).toBe(200);
    expect(allowed.headers['x-warden-user']).toBe('svc-1');
    // the owner's HTTP rules decide, not the key's management role
    expect((await ask('POST', '/grafana/api/x', bearer)).statusCode).toBe(403);
    // a key and a cookie: the Authorization header is the credential
    expect((await ask('GET', '/grafana/', { ...bearer, cookie: alice })).headers['x-warden-user']).toBe(
      'svc-1',
    );
    await t.services.apiKeys.update(CLI_CONTEXT, created.id, { enabled: false });
    expect((await ask('GET', '/grafana/d/1', bearer)).statusCode).toBe(401);
    await t.services.apiKeys.update(CLI_CONTEXT, created.id, { enabled: true });
    expect((await ask('GET', '/grafana/d/1', bearer)).statusCode).toBe(200);
    t.clock.advance(3_600_000);
    expect((await ask('GET', '/grafana/d/1', bearer)).statusCode).toBe(401);
  });

  it('failed API keys count against the address: then 401 forward_auth.throttled with Retry-After', async () => {
    const from = { remoteAddress: '198.51.100.77' };
    let throttled = null;
    for (let attempt = 0; attempt < 120 && throttled === null; attempt++) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/api/v1/forward-auth',
        headers: {
          'x-original-method': 'GET',
          'x-original-uri': '/grafana/',
          authorization: `Bearer wdn_${'0'.repeat(24)}_${String(attempt).padStart(43, 'x')}`,
        },
        ...from,
      });
      if (res.json().code === 'forward_auth.throttled') throttled = res;
      else expect(res.statusCode).toBe(401);
    }
    expect(throttled?.statusCode).toBe(401);
    expect(Number(throttled?.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('Basic failures count against the login throttle: then 401 forward_auth.throttled with Retry-After', async () => {
    await t.createUser({ username: 'tess', role: 'viewer', accessRoles: ['web'] });
    const good = basic('tess', STRONG_PASSWORD);
    expect((await ask('GET', '/grafana/', { authorization: good })).statusCode).toBe(200);
    let throttled = null;
    for (let attempt = 0; attempt < 12 && throttled === null; attempt++) {
      const res = await ask('GET', '/grafana/', { authorization: basic('tess', `wrong-${attempt}`) });
      if (res.json().code === 'forward_auth.throttled') throttled = res;
      else expect(res.statusCode).toBe(401);
    }
    expect(throttled?.statusCode).toBe(401);
    expect(Number(throttled?.headers['retry-after'])).toBeGreaterThan(0);
    // the account is blocked for everyone: the cached good credential and the console login alike
    expect((await ask('GET', '/grafana/', { authorization: good })).json().code).toBe(
      'forward_auth.throttled',
    );
    const login = await t.call('POST', '/api/v1/auth/login', {
      payload: { username: 'tess', password: STRONG_PASSWORD },
    });
    expect(login.statusCode).toBe(429);
    // the block ends with the throttle's window
    t.clock.advance(16 * 60_000);
    expect((await ask('GET', '/grafana/', { authorization: good })).statusCode).toBe(200);
  });

  it('verified Basic credentials come from a cache, which forgets a user on any change to it', async () => {
    const s = t.services;
    const basicCredentials = createBasicCredentials({
      clock: t.clock,
      hasher: s.credentials,
      throttle: s.throttle,
      settings: s.settings,
      mfa: s.mfa,
      users: s.userReader,
      secretKey: 'a-test-secret-key-a-test-secret-key',
    });
    const stop = basicCredentials.start(s.infra.events);
    try {
      const encoded = Buffer.from(`bob:${STRONG_PASSWORD}`).toString('base64');
      expect(await basicCredentials.resolve(encoded, '10.0.0.1')).toEqual({
        ok: true,
        username: 'bob',
        cached: false,
      });
      expect(await basicCredentials.resolve(encoded, '10.0.0.1')).toEqual({
        ok: true,
        username: 'bob',
        cached: true,
      });
      await s.users.update(CLI_CONTEXT, 'bob', { description: 'changed' });
      expect(await basicCredentials.resolve(encoded, '10.0.0.1')).toMatchObject({ ok: true, cached: false });
    } finally {
      stop();
    }
  });

  it('an ended session is refused at the next request: logout, revocation, idle and absolute expiry', async () => {
    await t.createUser({ username: 'sam', role: 'viewer', accessRoles: ['web'] });
    const loggedOut = await t.login('sam');
    expect((await ask('GET', '/grafana/', { cookie: loggedOut })).statusCode).toBe(200);
    expect((await t.call('POST', '/api/v1/auth/logout', { cookie: loggedOut })).statusCode).toBe(204);
    expect((await ask('GET', '/grafana/', { cookie: loggedOut })).statusCode).toBe(401);

    const revoked = await t.login('sam');
    expect((await ask('GET', '/grafana/', { cookie: revoked })).statusCode).toBe(200);
    await t.services.sessions.revokeAllOfUser(CLI_CONTEXT, 'sam');
    expect((await ask('GET', '/grafana/', { cookie: revoked })).statusCode).toBe(401);

    const idle = await t.login('sam');
    expect((await ask('GET', '/grafana/', { cookie: idle })).statusCode).toBe(200);
    const { defaultSessionTimeoutMinutes, absoluteSessionHours } = await t.services.settings.getSecurity();
    t.clock.advance(defaultSessionTimeoutMinutes * 60_000 + 1);
    expect((await ask('GET', '/grafana/', { cookie: idle })).statusCode).toBe(401);

    const absolute = await t.login('sam');
    const step = (defaultSessionTimeoutMinutes * 60_000) / 2;
    for (let at = 0; at <= absoluteSessionHours * 3_600_000; at += step) {
      t.clock.advance(step);
      // every request renews the idle expiry; the absolute one stays
      if ((await ask('GET', '/grafana/', { cookie: absolute })).statusCode !== 200) break;
    }
    expect((await ask('GET', '/grafana/', { cookie: absolute })).statusCode).toBe(401);
  });

  it('answers proxies from any address: apiAllowFrom restricts the management API, not forward-auth', async () => {
    const security = await t.services.settings.getSecurity();
    await t.services.settings.putSecurity(CLI_CONTEXT, { ...security, apiAllowFrom: ['192.0.2.0/24'] });
    try {
      const cookie = await t.login('bob').catch(() => null);
      expect(cookie).toBeNull();
      expect((await t.call('GET', '/api/v1/me', { cookie: alice })).json().code).toBe(
        'request.ip_not_allowed',
      );
      const res = await ask('GET', '/grafana/', { authorization: basic('bob', STRONG_PASSWORD) });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-warden-user']).toBe('bob');
    } finally {
      await t.services.settings.putSecurity(CLI_CONTEXT, security);
    }
  });

  it('a rule change applies to the next request', async () => {
    const cookie = await t.login('bob');
    expect((await ask('GET', '/grafana/x', { cookie })).statusCode).toBe(200);
    const role = await t.services.accessRoles.get('web');
    await t.services.accessRoles.update(CLI_CONTEXT, 'web', {
      rules: [{ permission: 'deny', action: 'http', path: '/grafana/**' }, ...role.rules],
    });
    expect((await ask('GET', '/grafana/x', { cookie })).statusCode).toBe(403);
    await t.services.accessRoles.update(CLI_CONTEXT, 'web', { rules: role.rules });
    expect((await ask('GET', '/grafana/x', { cookie })).statusCode).toBe(200);
  });

  it('deactivation and deletion apply to the next request, for sessions and cached Basic credentials', async () => {
    await t.createUser({ username: 'dora', role: 'viewer', accessRoles: ['web'] });
    const cookie = await t.login('dora');
    const authorization = basic('dora', STRONG_PASSWORD);
    expect((await ask('GET', '/grafana/', { cookie })).statusCode).toBe(200);
    expect((await ask('GET', '/grafana/', { authorization })).statusCode).toBe(200);
    await t.services.users.deactivate(CLI_CONTEXT, 'dora');
    expect((await ask('GET', '/grafana/', { cookie })).statusCode).toBe(401);
    expect((await ask('GET', '/grafana/', { authorization })).statusCode).toBe(401);
    await t.services.users.reactivate(CLI_CONTEXT, 'dora');
    expect((await ask('GET', '/grafana/', { authorization })).statusCode).toBe(200);
    await t.services.users.remove(CLI_CONTEXT, 'dora');
    expect((await ask('GET', '/grafana/', { authorization })).statusCode).toBe(401);
  });
});
