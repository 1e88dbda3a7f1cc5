import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DomainEvents } from '../../src/core/events.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { findUserByUsername, updateUser } from '../../src/modules/users/users.repository.js';
import { ENGINES } from '../helpers/databases.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../helpers/sso.js';
import { createTestContext, ROOT_PASSWORD, type TestContext } from '../helpers/test-app.js';

const SECRET = 'corp-client-secret-4f9a1c0e77';
const PROVIDERS = '/api/v1/sso/providers';

describe.each(ENGINES)('SSO provider management (%s)', (engine) => {
  let op: TestOidcProvider;
  let t: TestContext;
  let root: string;

  beforeAll(async () => {
    op = await startOidcProvider({
      clients: [
        {
          clientId: TEST_CLIENT_ID,
          clientSecret: TEST_CLIENT_SECRET,
          redirectUris: ['http://127.0.0.1/api/v1/auth/sso/corp/callback'],
        },
      ],
    });
  });
  afterAll(() => op.stop());

  beforeEach(async () => {
    t = await createTestContext({ engine });
    root = await t.login('admin', ROOT_PASSWORD);
  });
  afterEach(() => t.close());

  function corp(overrides: object = {}): object {
    return {
      name: 'corp',
      displayName: 'Corporate login',
      preset: 'keycloak',
      issuer: op.issuer,
      clientId: TEST_CLIENT_ID,
      clientSecret: SECRET,
      roleMapping: [{ value: 'plant-operators', role: 'operator' }],
      ...overrides,
    };
  }

  async function create(body: object, cookie = root) {
    return t.call('POST', PROVIDERS, { cookie, payload: body });
  }

  /** Makes `username` an SSO user of `provider` below the API (the users side has its own suites). */
  async function makeSsoUser(username: string, provider: string): Promise<void> {
    const row = await findUserByUsername(t.database.db, username);
    if (!row) throw new Error(`no user ${username}`);
    await updateUser(t.database.db, row.id, {
      auth_method: 'sso',
      sso_provider: provider,
      password_hash: null,
    });
  }

  it('creates a provider whose answers show hasClientSecret, never the secret; the row holds it sealed', async () => {
    const created = await create(corp());
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      name: 'corp',
      displayName: 'Corporate login',
      preset: 'keycloak',
      issuer: op.issuer,
      clientId: TEST_CLIENT_ID,
      hasClientSecret: true,
      clientSecretUnreadable: false,
      scopes: ['openid', 'email', 'profile'],
      enabled: true,
      autoProvision: false,
      defaultRole: 'viewer',
      defaultScopes: null,
      emailClaim: 'email',
      groupsClaim: 'groups',
      roleMapping: [{ value: 'plant-operators', role: 'operator' }],
    });
    expect(created.body).not.toContain(SECRET);
    expect(created.json()).not.toHaveProperty('clientSecret');

    for (const url of [PROVIDERS, `${PROVIDERS}/corp`]) {
      const res = await t.call('GET', url, { cookie: root });
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain(SECRET);
      expect(res.body).not.toMatch(/"clientSecret"/);
    }
    const row = await t.database.db
      .selectFrom('sso_providers')
      .selectAll()
      .where('name', '=', 'corp')
      .executeTakeFirstOrThrow();
    expect(row.client_secret_sealed).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(SECRET);
    // The directory the sign-in code reads opens it.
    expect((await t.services.ssoProviders.find('corp'))?.clientSecret).toBe(SECRET);
  });

  it('PUT changes the fields it names: without clientSecret the stored one stays, null removes it', async () => {
    await create(corp());
    const renamed = await t.call('PUT', `${PROVIDERS}/corp`, {
      cookie: root,
      payload: { displayName: 'Corp SSO', autoProvision: true },
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json()).toMatchObject({
      displayName: 'Corp SSO',
      autoProvision: true,
      issuer: op.issuer,
      hasClientSecret: true,
      roleMapping: [{ value: 'plant-operators', role: 'operator' }],
    });
    expect(renamed.body).not.toContain(SECRET);
    expect((await t.services.ssoProviders.find('corp'))?.clientSecret).toBe(SECRET);

    const replaced = await t.call('PUT', `${PROVIDERS}/corp`, {
      cookie: root,
      payload: { clientSecret: 'a-new-secret-00000000' },
    });
    expect(replaced.json().hasClientSecret).toBe(true);
    expect(replaced.body).not.toContain('a-new-secret-00000000');
    expect((await t.services.ssoProviders.find('corp'))?.clientSecret).toBe('a-new-secret-00000000');

    const cleared = await t.call('PUT', `${PROVIDERS}/corp`, {
      cookie: root,
      payload: { clientSecret: null },
    });
    expect(cleared.json().hasClientSecret).toBe(false);
    expect((await t.services.ssoProviders.find('corp'))?.clientSecret).toBeNull();

    const other = await t.call('PUT', `${PROVIDERS}/corp`, { cookie: root, payload: { name: 'other' } });
    expect(other.statusCode).toBe(400);
    expect(other.json().code).toBe('sso.name_immutable');
  });

  it('audits create, update and delete with the changed fields, never the secret', async () => {
    await create(corp());
    await t.call('PUT', `${PROVIDERS}/corp`, {
      cookie: root,
      payload: { enabled: false, clientSecret: 'replacement-secret-1234' },
    });
    await t.call('PUT', `${PROVIDERS}/corp`, { cookie: root, payload: { enabled: false } });
    expect((await t.call('DELETE', `${PROVIDERS}/corp`, { cookie: root })).statusCode).toBe(204);
    const events = (await t.services.audit.list({ target: 'sso_provider:corp' }, 1, 25)).items;
    expect(events.map((event) => event.action)).toEqual([
      'sso_provider.delete',
      'sso_provider.update',
      'sso_provider.create',
    ]);
    const [deleted, updated, created] = events;
    expect(created?.details).toMatchObject({ after: { name: 'corp', issuer: op.issuer }, credential: 'set' });
    // Only what changed; an unchanged second PUT writes no event.
    expect(updated?.details).toEqual({
      before: { enabled: true },
      after: { enabled: false },
      credential: 'replaced',
    });
    expect(deleted?.details).toMatchObject({ before: { name: 'corp' } });
    const text = JSON.stringify(events);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('replacement-secret-1234');
    expect(text).not.toMatch(/sealed|v1\./);
  });

  it('tells other instances through the change feed', async () => {
    const seen: DomainEvents['sso_provider.changed'][] = [];
    t.services.infra.events.on('sso_provider.changed', (event) => {
      seen.push(event);
    });
    await create(corp());
    await t.call('PUT', `${PROVIDERS}/corp`, { cookie: root, payload: { enabled: false } });
    await t.call('DELETE', `${PROVIDERS}/corp`, { cookie: root });
    expect(seen).toEqual([
      { name: 'corp', change: 'created' },
      { name: 'corp', change: 'updated' },
      { name: 'corp', change: 'deleted' },
    ]);
  });

  it('answers 409 for a taken name and 404 for an unknown one', async () => {
    await create(corp());
    const again = await create(corp());
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('sso.provider_exists');
    for (const [method, url] of [
      ['GET', `${PROVIDERS}/nope`],
      ['PUT', `${PROVIDERS}/nope`],
      ['DELETE', `${PROVIDERS}/nope`],
      ['POST', `${PROVIDERS}/nope/test`],
    ] as const) {
      const res = await t.call(method, url, { cookie: root, ...(method === 'PUT' ? { payload: {} } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().code).toBe('sso.provider_not_found');
    }
  });

  it('validates names, issuers, scopes and role mappings with stable codes', async () => {
    const cases: Array<[object, string, string?]> = [
      [{ name: 'Corp' }, 'sso.name_invalid'],
      [{ name: 'c' }, 'sso.name_invalid'],
      [{ name: '-corp' }, 'sso.name_invalid'],
      [{ name: 'a'.repeat(41) }, 'sso.name_invalid'],
      [{ issuer: 'http://example.com' }, 'sso.issuer_invalid', 'https'],
      [{ issuer: 'http://localhost.example.com' }, 'sso.issuer_invalid', 'https'],
      [{ issuer: 'https://user:pw@idp.example.com' }, 'sso.issuer_invalid', 'credentials'],
      [{ issuer: 'https://idp.example.com/?realm=x' }, 'sso.issuer_invalid', 'query'],
      [{ issuer: 'idp.example.com' }, 'sso.issuer_invalid', 'absolute'],
      [{ preset: 'keycloak', issuer: undefined }, 'sso.issuer_invalid', 'needs the issuer'],
      [{ scopes: ['email', 'profile'] }, 'sso.openid_scope_required'],
      [{ defaultRole: 'viewer', defaultScopes: ['user_management'] }, 'sso.scopes_incompatible'],
      [
        { roleMapping: [{ value: 'ops', role: 'operator', scopes: ['sso_management'] }] },
        'sso.scopes_incompatible',
      ],
      [{ roleMapping: [{ value: '   ', role: 'viewer' }] }, 'sso.role_mapping_invalid'],
      [
        {
          roleMapping: [
            { value: 'ops', role: 'viewer' },
            { value: 'ops', role: 'operator' },
          ],
        },
        'sso.role_mapping_invalid',
      ],
      [
        { groupsClaim: '', roleMapping: [{ value: 'ops', role: 'viewer' }] },
        'sso.role_mapping_invalid',
        'groups claim',
      ],
      [
        { roleMapping: Array.from({ length: 101 }, (_, i) => ({ value: `g${i}`, role: 'viewer' })) },
        'request.invalid',
      ],
      [{ roleMapping: [{ value: '', role: 'viewer' }] }, 'request.invalid'],
      [{ defaultRole: 'superuser' }, 'request.invalid'],
    ];
    for (const [overrides, code, detail] of cases) {
      const res = await create(corp(overrides));
      expect(res.statusCode, JSON.stringify(overrides)).toBe(400);
      expect(res.json().code, JSON.stringify(overrides)).toBe(code);
      if (detail) expect(res.json().detail).toContain(detail);
    }
    expect((await t.call('GET', PROVIDERS, { cookie: root })).json().total).toBe(0);

    // Accepted: https anywhere, http on a loopback host, the Google preset's own issuer.
    for (const [name, issuer] of [
      ['kc', 'https://idp.example.com/realms/plant'],
      ['local', op.issuer],
      ['v6', 'http://[::1]:8080/realms/x'],
    ] as const) {
      const res = await create(corp({ name, issuer }));
      expect(res.statusCode, res.body).toBe(201);
    }
    const google = await create({
      name: 'google',
      preset: 'google',
      clientId: 'x.apps.googleusercontent.com',
    });
    expect(google.statusCode, google.body).toBe(201);
    expect(google.json()).toMatchObject({
      issuer: 'https://accounts.google.com',
      scopes: ['openid', 'email', 'profile'],
      emailClaim: 'email',
      groupsClaim: '',
      hasClientSecret: false,
      displayName: 'google',
    });
  });

  it('refuses viewers and holders of other scopes, reading included', async () => {
    await create(corp());
    await t.createUser({ username: 'vera', role: 'viewer', scopes: ['log_management'] });
    await t.createUser({ username: 'otto', role: 'operator' });
    await t.createUser({ username: 'uma', role: 'admin', scopes: ['user_management', 'system_config'] });
    for (const username of ['vera', 'otto', 'uma']) {
      const cookie = await t.login(username);
      for (const [method, url, payload] of [
        ['GET', PROVIDERS],
        ['GET', `${PROVIDERS}/corp`],
        ['GET', '/api/v1/sso/presets'],
        ['POST', PROVIDERS, corp({ name: 'mine' })],
        ['PUT', `${PROVIDERS}/corp`, { enabled: false }],
        ['DELETE', `${PROVIDERS}/corp`],
        ['POST', `${PROVIDERS}/corp/test`],
        ['POST', `${PROVIDERS}/test`, corp()],
      ] as const) {
        const res = await t.call(method, url, { cookie, ...(payload ? { payload } : {}) });
        expect(res.statusCode, `${username} ${method} ${url}`).toBe(403);
        expect(res.json().code).toBe('auth.forbidden');
      }
    }
    expect((await t.services.ssoProviders.find('corp'))?.enabled).toBe(true);
  });

  it('an admin holding sso_management but not every right cannot configure a provider that grants more', async () => {
    await t.createUser({ username: 'sam', role: 'admin', scopes: ['sso_management', 'log_management'] });
    const sam = await t.login('sam');
    const refusals: object[] = [
      { name: 'a1', defaultRole: 'admin' },
      { name: 'a2', autoProvision: true, defaultRole: 'operator' },
      { name: 'a3', roleMapping: [{ value: 'it-admins', role: 'admin' }] },
      { name: 'a4', roleMapping: [{ value: 'it-admins', role: 'admin', scopes: ['user_management'] }] },
    ];
    for (const overrides of refusals) {
      const res = await create(corp({ roleMapping: [], ...overrides }), sam);
      expect(res.statusCode, JSON.stringify(overrides)).toBe(403);
      expect(res.json()).toMatchObject({ code: 'auth.forbidden', denial: { reason: 'grant' } });
    }
    // What sam holds it may hand out: admin with only its own scopes, operators without scopes.
    const own = await create(
      corp({
        name: 'sams',
        roleMapping: [
          { value: 'auditors', role: 'admin', scopes: ['log_management'] },
          { value: 'ops', role: 'operator', scopes: [] },
        ],
      }),
      sam,
    );
    expect(own.statusCode, own.body).toBe(201);
    const escalate = await t.call('PUT', `${PROVIDERS}/sams`, {
      cookie: sam,
      payload: { defaultRole: 'admin', defaultScopes: null },
    });
    expect(escalate.statusCode).toBe(403);

    // Root's provider maps a group to admin: sam may not change it (its issuer, say) nor delete it.
    await create(corp({ roleMapping: [{ value: 'it-admins', role: 'admin' }] }));
    const repoint = await t.call('PUT', `${PROVIDERS}/corp`, {
      cookie: sam,
      payload: { issuer: 'https://attacker.example.com' },
    });
    expect(repoint.statusCode).toBe(403);
    expect((await t.call('DELETE', `${PROVIDERS}/corp`, { cookie: sam })).statusCode).toBe(403);
    expect((await t.services.ssoProviders.find('corp'))?.issuer).toBe(op.issuer);
    const refused = await t.services.audit.list({ action: 'sso_provider.update', outcome: 'failure' }, 1, 25);
    expect(refused.items.map((event) => event.target)).toContain('sso_provider:corp');
  });

  it('refuses to delete a provider users sign in with (409 with the count)', async () => {
    await create(corp());
    await t.createUser({ username: 'pia', role: 'viewer' });
    await t.createUser({ username: 'paul', role: 'viewer' });
    await makeSsoUser('pia', 'corp');
    await makeSsoUser('paul', 'corp');
    const refused = await t.call('DELETE', `${PROVIDERS}/corp`, { cookie: root });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'sso.provider_in_use', users: 2 });
    // A user switched back to a local password keeps the provider's name but no longer signs in with it.
    for (const username of ['pia', 'paul']) {
      const row = await findUserByUsername(t.database.db, username);
      await updateUser(t.database.db, row?.id ?? '', { auth_method: 'local' });
    }
    expect((await t.call('DELETE', `${PROVIDERS}/corp`, { cookie: root })).statusCode).toBe(204);
  });

  it('refuses to disable the provider of the only admin who manages users and can sign in (409 user.last_admin)', async () => {
    await create(corp());
    await t.createUser({ username: 'ida', role: 'admin' });
    await makeSsoUser('ida', 'corp');
    // Root is deactivated (below the API: today's users service does not count SSO admins yet).
    const rootRow = await findUserByUsername(t.database.db, 'admin');
    await updateUser(t.database.db, rootRow?.id ?? '', { active: 0 });

    await expect(
      t.services.ssoProviderAdmin.update(CLI_CONTEXT, 'corp', { enabled: false }),
    ).rejects.toMatchObject({ code: 'user.last_admin', status: 409 });
    expect((await t.services.ssoProviders.find('corp'))?.enabled).toBe(true);
    const [refusal] = (await t.services.audit.list({ action: 'sso_provider.update' }, 1, 25)).items;
    expect(refusal).toMatchObject({ outcome: 'failure', details: { error: 'user.last_admin' } });
    // Another way in counts: a second enabled provider with an SSO admin, or a local admin with a password.
    await t.services.ssoProviderAdmin.create(CLI_CONTEXT, {
      name: 'backup',
      issuer: op.issuer,
      clientId: TEST_CLIENT_ID,
    });
    await t.createUser({ username: 'bea', role: 'admin' });
    await makeSsoUser('bea', 'backup');
    const disabled = await t.services.ssoProviderAdmin.update(CLI_CONTEXT, 'corp', { enabled: false });
    expect(disabled.enabled).toBe(false);
    await expect(
      t.services.ssoProviderAdmin.update(CLI_CONTEXT, 'backup', { enabled: false }),
    ).rejects.toMatchObject({ code: 'user.last_admin' });
  });

  it('two concurrent disables of the last two ways in: exactly one wins', async () => {
    for (const name of ['north', 'south']) {
      await t.services.ssoProviderAdmin.create(CLI_CONTEXT, { name, issuer: op.issuer, clientId: 'c' });
      await t.createUser({ username: `${name}-admin`, role: 'admin' });
      await makeSsoUser(`${name}-admin`, name);
    }
    const rootRow = await findUserByUsername(t.database.db, 'admin');
    await updateUser(t.database.db, rootRow?.id ?? '', { active: 0 });
    const results = await Promise.allSettled(
      ['north', 'south'].map((name) =>
        t.services.ssoProviderAdmin.update(CLI_CONTEXT, name, { enabled: false }),
      ),
    );
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((result) => result.status === 'rejected');
    expect(rejected?.reason).toMatchObject({ code: 'user.last_admin' });
    expect((await t.services.ssoProviders.listEnabled()).length).toBe(1);
  });

  it('disabling is allowed while a local admin managing users remains; an admin without user_management does not count', async () => {
    await create(corp());
    await t.createUser({ username: 'ida', role: 'admin' });
    await makeSsoUser('ida', 'corp');
    const res = await t.call('PUT', `${PROVIDERS}/corp`, { cookie: root, payload: { enabled: false } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().enabled).toBe(false);

    await t.call('PUT', `${PROVIDERS}/corp`, { cookie: root, payload: { enabled: true } });
    // A local admin lacking user_management cannot repair anything: it does not count.
    await t.createUser({
      username: 'lou',
      role: 'admin',
      scopes: ['sso_management', 'asset_management', 'log_management'],
    });
    const rootRow = await findUserByUsername(t.database.db, 'admin');
    await updateUser(t.database.db, rootRow?.id ?? '', { active: 0 });
    const lou = await t.login('lou');
    const refused = await t.call('PUT', `${PROVIDERS}/corp`, { cookie: lou, payload: { enabled: false } });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('user.last_admin');
  });

  it('answers the presets the console form fills in', async () => {
    const res = await t.call('GET', '/api/v1/sso/presets', { cookie: root });
    expect(res.statusCode).toBe(200);
    const presets = res.json().items as Array<{ preset: string; issuer: string | null; groupsClaim: string }>;
    expect(presets.map((preset) => preset.preset)).toEqual(['keycloak', 'entra', 'google', 'generic']);
    expect(presets.find((preset) => preset.preset === 'google')).toMatchObject({
      issuer: 'https://accounts.google.com',
      groupsClaim: '',
    });
    expect(presets.find((preset) => preset.preset === 'entra')).toMatchObject({
      issuer: null,
      issuerPattern: 'https://login.microsoftonline.com/<tenant id>/v2.0',
    });
  });

  describe('test connection (real OpenID Provider)', () => {
    it('a stored provider: ok with the endpoints discovery found', async () => {
      await create(corp({ scopes: ['openid', 'email', 'groups', 'offline_access', 'custom'] }));
      const res = await t.call('POST', `${PROVIDERS}/corp/test`, { cookie: root });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        ok: true,
        issuer: op.issuer,
        authorizationEndpoint: `${op.issuer}/auth`,
        tokenEndpoint: `${op.issuer}/token`,
        endSessionEndpoint: `${op.issuer}/session/end`,
        warnings: [`scope "custom" is not in the provider's scopes_supported`],
      });
      expect(res.json().scopesSupported).toContain('openid');
      expect(res.json().claimsSupported).toContain('groups');
      expect(res.body).not.toContain(SECRET);
    });

    it("a wrong path or host: ok false with the provider's error, not a 5xx", async () => {
      await create(corp({ issuer: `${op.issuer}/realms/wrong` }));
      const wrongPath = await t.call('POST', `${PROVIDERS}/corp/test`, { cookie: root });
      expect(wrongPath.statusCode).toBe(200);
      expect(wrongPath.json()).toMatchObject({
        ok: false,
        error: expect.stringMatching(/unexpected HTTP response status code \(HTTP 404/),
        errorCode: 'OAUTH_RESPONSE_IS_NOT_CONFORM',
      });

      // The provider calls itself 127.0.0.1: asked as localhost, its metadata names another issuer.
      const otherName = await t.call('POST', `${PROVIDERS}/test`, {
        cookie: root,
        payload: corp({ issuer: op.issuer.replace('127.0.0.1', 'localhost') }),
      });
      expect(otherName.statusCode).toBe(200);
      expect(otherName.json()).toMatchObject({
        ok: false,
        error: expect.stringContaining(`the provider says "${op.issuer}"`),
      });

      const closed = await t.call('POST', `${PROVIDERS}/test`, {
        cookie: root,
        payload: corp({ issuer: 'http://127.0.0.1:9' }),
      });
      expect(closed.json()).toMatchObject({ ok: false, error: expect.stringContaining('fetch failed') });
    });

    it('an unsaved form: validated as a save, with the stored provider standing in for omitted fields', async () => {
      await create(corp());
      const draft = await t.call('POST', `${PROVIDERS}/test`, {
        cookie: root,
        payload: { name: 'corp', clientId: 'changed-client' },
      });
      expect(draft.json()).toMatchObject({ ok: true, issuer: op.issuer });
      const fresh = await t.call('POST', `${PROVIDERS}/test`, {
        cookie: root,
        payload: { issuer: op.issuer, clientId: 'new-client' },
      });
      expect(fresh.json()).toMatchObject({ ok: true });
      const invalid = await t.call('POST', `${PROVIDERS}/test`, {
        cookie: root,
        payload: { issuer: 'http://example.com', clientId: 'x' },
      });
      expect(invalid.statusCode).toBe(400);
      expect(invalid.json().code).toBe('sso.issuer_invalid');
      // Testing writes nothing.
      expect((await t.services.audit.list({ target: 'sso_provider:corp' }, 1, 25)).total).toBe(1);
    });
  });
});
