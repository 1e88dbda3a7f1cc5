import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ARGON2_PARAMS } from '../../src/core/crypto/password-hasher.js';
import { sha256Hex } from '../../src/core/crypto/tokens.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

describe('HTTP conventions', () => {
  let t: TestContext;
  let root: string;
  beforeAll(async () => {
    t = await createTestContext({ realHash: true });
    root = await t.login('admin', ROOT_PASSWORD);
  });
  afterAll(() => t.close());

  it('every registered API route declares its access requirement, and hooks and the public ones are few', () => {
    const api = t.app.routeAccess.filter((r) => r.url.startsWith('/api/v1/'));
    expect(api.length).toBeGreaterThan(40);
    for (const route of api) expect(route.access, `${route.method} ${route.url}`).toBeDefined();
    const open = api.filter((r) => r.access.kind === 'public').map((r) => `${r.method} ${r.url}`);
    expect(open).toEqual([
      'POST /api/v1/auth/login',
      'GET /api/v1/registry/ca.pem',
      'HEAD /api/v1/registry/ca.pem',
      'GET /api/v1/registry/ca.crl',
      'HEAD /api/v1/registry/ca.crl',
      // Single sign-on: the sign-in page's list of providers, and the browser's way to and back from one.
      'GET /api/v1/auth/sso/providers',
      'HEAD /api/v1/auth/sso/providers',
      'GET /api/v1/auth/sso/:name/start',
      'GET /api/v1/auth/sso/:name/callback',
    ]);
    for (const r of api.filter((r) => r.access.kind === 'hook')) expect(r.url).toMatch(/^\/api\/v1\/hooks\//);
    const forwarded = api.filter((r) => r.access.kind === 'forwarded').map((r) => `${r.method} ${r.url}`);
    expect(forwarded).toEqual(['GET /api/v1/forward-auth', 'HEAD /api/v1/forward-auth']);
    const registration = api
      .filter((r) => r.access.kind === 'registration')
      .map((r) => `${r.method} ${r.url}`);
    expect(registration).toEqual(['POST /api/v1/registry/requests', 'GET /api/v1/registry/requests/:id']);
    const computingPosts = ['POST /api/v1/access/explain'];
    for (const r of api.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method))) {
      if (computingPosts.includes(`${r.method} ${r.url}`)) continue;
      expect(r.access.kind, `${r.method} ${r.url} changes state, so it must not be a read`).not.toBe('read');
    }
  });

  it('refuses to register a route without a requirement (the access guard, on a fresh app)', async () => {
    // A fresh, not yet started app: on a started one Fastify refuses any new route for its own reasons.
    const app = await buildApp({ services: t.services });
    try {
      // Not awaited: the plugin loads during ready(), which must then fail with the guard's own error.
      void app.register(async (child) => {
        child.get('/api/v1/declared', { config: { access: { kind: 'public' } } }, async () => 'ok');
        child.get('/api/v1/undeclared', async () => 'x');
      });
      const outcome = await app.ready().then(
        () => 'started',
        (error: Error) => error.message,
      );
      expect(outcome).toBe('route GET /api/v1/undeclared declares no access requirement (config.access)');
    } finally {
      await app.close();
    }
  });

  it('serves the OpenAPI document generated from the route schemas, and its UI', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/users',
        '/api/v1/users/{username}',
        '/api/v1/auth/login',
        '/api/v1/audit',
      ]),
    );
    expect(doc.paths['/api/v1/users'].post.requestBody).toBeDefined();
    expect((await t.app.inject({ method: 'GET', url: '/api/docs' })).statusCode).toBeLessThan(400);
  });

  it('health and readiness', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({
      status: 'ready',
      changeFeed: { following: true, lastId: expect.any(Number) },
    });
  });

  it('unknown routes are 404 problems; malformed JSON is a 400 problem, never a 5xx', async () => {
    const missing = await t.app.inject({ method: 'GET', url: '/api/v1/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.json().code).toBe('request.not_found');
    const malformed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { cookie: root, 'content-type': 'application/json' },
      payload: '{"username":',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.body).not.toMatch(/at .*\.js|stack/);
    const wrongType = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { cookie: root, 'content-type': 'application/xml' },
      payload: '<user/>',
    });
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.json().code).toBe('request.unsupported_media_type');
    expect(wrongType.headers['content-type']).toContain('application/problem+json');
  });

  it('login sets an HttpOnly SameSite=Strict cookie whose secret is stored only as a hash', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: ROOT_PASSWORD },
    });
    const cookie = res.cookies.find((c) => c.name === 'warden_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    const [id, secret] = (cookie?.value ?? '').split('.');
    expect((secret ?? '').length).toBeGreaterThanOrEqual(22);
    const row = await t.database.db
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', id ?? '')
      .executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(sha256Hex(secret ?? ''));
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it('a new token at every login (no fixation)', async () => {
    expect(await t.login('admin', ROOT_PASSWORD)).not.toBe(await t.login('admin', ROOT_PASSWORD));
  });

  it('hashes passwords with argon2id m=19456 t=2 p=1', async () => {
    const row = await t.services.userReader.findRow('admin');
    expect(row?.password_hash).toMatch(
      new RegExp(
        `^\\$argon2id\\$v=19\\$m=${ARGON2_PARAMS.memoryCost},t=${ARGON2_PARAMS.timeCost},p=${ARGON2_PARAMS.parallelism}\\$`,
      ),
    );
  });

  it('unknown user and wrong password give the same 401 body', async () => {
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'ghost', password: STRONG_PASSWORD },
    });
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: 'Wrong-passw0rd!' },
    });
    expect(unknown.statusCode).toBe(401);
    const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    expect(strip(unknown.json())).toEqual(strip(wrong.json()));
    expect(wrong.json().code).toBe('auth.invalid_credentials');
    const audit = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/audit?action=auth.login&outcome=failure',
        headers: { cookie: root },
      })
    ).json();
    expect(audit.items.map((e: { details: { reason: string } }) => e.details.reason)).toEqual(
      expect.arrayContaining(['unknown_user', 'wrong_password']),
    );
    expect(JSON.stringify(audit)).not.toContain('Wrong-passw0rd!');
  });

  it('logout ends the session', async () => {
    const cookie = await t.login('admin', ROOT_PASSWORD);
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie } })).statusCode,
    ).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie } })).statusCode).toBe(
      401,
    );
  });

  it('refuses cross-site state-changing requests, lets same-site and non-browser clients through', async () => {
    const payload = { description: 'cross-site' };
    const evil = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/admin',
      headers: { cookie: root, origin: 'https://evil.example' },
      payload,
    });
    expect(evil.statusCode).toBe(403);
    expect(evil.json().code).toBe('auth.cross_site');
    const fetchSite = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/admin',
      headers: { cookie: root, 'sec-fetch-site': 'cross-site' },
      payload,
    });
    expect(fetchSite.json().code).toBe('auth.cross_site');
    const loginCsrf = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { origin: 'https://evil.example' },
      payload: { username: 'admin', password: ROOT_PASSWORD },
    });
    expect(loginCsrf.statusCode).toBe(403);
    const sameOrigin = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/admin',
      headers: {
        cookie: root,
        origin: 'http://localhost:80',
        host: 'localhost:80',
        'sec-fetch-site': 'same-origin',
      },
      payload,
    });
    expect(sameOrigin.statusCode).toBe(200);
    const cli = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/admin',
      headers: { cookie: root },
      payload,
    });
    expect(cli.statusCode).toBe(200);
    const safeGet = await t.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { cookie: root, origin: 'https://evil.example' },
    });
    expect(safeGet.statusCode).toBe(200);
  });

  it('writes every change and login to the audit log with no secrets, exportable as CSV and JSON', async () => {
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { cookie: root },
      payload: { username: 'audited', password: STRONG_PASSWORD, role: 'viewer' },
    });
    const list = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/audit?target=user:audited',
        headers: { cookie: root },
      })
    ).json();
    expect(list.items[0]).toMatchObject({
      action: 'user.create',
      actor: { type: 'user', name: 'user:admin' },
      outcome: 'success',
    });
    expect(list.items[0].details.after).toMatchObject({ username: 'audited', role: 'viewer' });
    const csv = await t.app.inject({
      method: 'GET',
      url: '/api/v1/audit/export?format=csv&action=user.',
      headers: { cookie: root },
    });
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toContain('attachment');
    expect(csv.body.split('\r\n')[0]).toBe('id,at,actor,action,target,outcome,ip,requestId,details');
    expect(csv.body).toContain('"user:audited"');
    const json = await t.app.inject({
      method: 'GET',
      url: '/api/v1/audit/export?format=json',
      headers: { cookie: root },
    });
    const events = JSON.parse(json.body) as Array<{ action: string }>;
    expect(events.some((e) => e.action === 'auth.login')).toBe(true);
    for (const body of [csv.body, json.body]) {
      expect(body).not.toContain(STRONG_PASSWORD);
      expect(body).not.toContain(ROOT_PASSWORD);
      expect(body).not.toMatch(/argon2id/);
    }
  });
});
