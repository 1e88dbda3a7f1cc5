import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, ROOT_PASSWORD, type TestContext } from '../helpers/test-app.js';

const ADMIN_SECRET = 'Dynsec-Adm1n-Secret!';
const TOKEN = 'a-hook-token-that-is-long-enough';

describe.each(ENGINES)('broker integrations API (%s)', (engine) => {
  let t: TestContext;
  let root: string;

  beforeAll(async () => {
    t = await createTestContext({ engine });
    root = await t.login('admin', ROOT_PASSWORD);
  });
  afterAll(() => t.close());

  const mosquitto = {
    name: 'mosq-main',
    kind: 'mosquitto',
    config: { url: 'mqtt://127.0.0.1:9', adminUsername: 'dynsec-admin', adminPassword: ADMIN_SECRET },
  };

  async function lastAudit(action: string): Promise<Record<string, unknown>> {
    const page = await t.services.audit.list({ action }, 1, 1);
    return page.items[0] as unknown as Record<string, unknown>;
  }

  it('creates an integration with defaults applied; secrets are sealed at rest and never returned', async () => {
    const created = await t.call('POST', '/api/v1/brokers', { cookie: root, payload: mosquitto });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({
      name: 'mosq-main',
      kind: 'mosquitto',
      enabled: true,
      secrets: ['adminPassword'],
      version: 1,
      config: {
        url: 'mqtt://127.0.0.1:9',
        adminUsername: 'dynsec-admin',
        clientIdBinding: 'none',
        timeoutMs: 5000,
        rejectUnauthorized: true,
      },
    });
    expect(created.body).not.toContain(ADMIN_SECRET);
    const stored = await t.database.db
      .selectFrom('broker_integrations')
      .select('config')
      .executeTakeFirstOrThrow();
    expect(stored.config).not.toContain(ADMIN_SECRET);
    expect(JSON.parse(stored.config).adminPassword).toMatch(/^v1\./);
    const audit = await lastAudit('broker.update');
    expect(audit).toMatchObject({ target: 'broker:mosq-main', details: { change: 'create' } });
    expect(JSON.stringify(audit)).not.toContain(ADMIN_SECRET);
    expect((await t.call('GET', '/api/v1/brokers/MOSQ-MAIN', { cookie: root })).json().name).toBe(
      'mosq-main',
    );
    expect((await t.call('GET', '/api/v1/brokers', { cookie: root })).json()).toMatchObject({ total: 1 });
  });

  it('hook integrations: loopback by default, token and basic password write-only, null removes a token', async () => {
    const created = await t.call('POST', '/api/v1/brokers', {
      cookie: root,
      payload: {
        name: 'emqx-main',
        kind: 'emqx',
        config: { hook: { token: TOKEN, basic: { username: 'emqx', password: 'basic-pass' } } },
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      config: {
        hook: {
          allowFrom: ['127.0.0.0/8', '::1/128'],
          ratePerSecond: 50000,
          burst: 100000,
          basic: { username: 'emqx' },
        },
        authnAcl: false,
        unknownUser: 'deny',
      },
      secrets: ['hook.token', 'hook.basic.password'],
    });
    expect(created.body).not.toContain(TOKEN);
    // Omitted secrets are kept; the whole non-secret config is replaced.
    const kept = await t.call('PUT', '/api/v1/brokers/emqx-main', {
      cookie: root,
      payload: { config: { hook: { basic: { username: 'emqx2' } }, unknownUser: 'ignore' }, version: 1 },
    });
    expect(kept.statusCode).toBe(200);
    expect(kept.json()).toMatchObject({
      version: 2,
      secrets: ['hook.token', 'hook.basic.password'],
      config: { unknownUser: 'ignore' },
    });
    const cleared = await t.call('PUT', '/api/v1/brokers/emqx-main', {
      cookie: root,
      payload: { config: { hook: { token: null } } },
    });
    expect(cleared.json().secrets).toEqual([]);
  });

  it('refuses bad settings with broker.invalid_config listing every problem', async () => {
    const cases: Array<[unknown, string[]]> = [
      [
        { name: 'bad-1', kind: 'mosquitto', config: { url: 'mqtt://h:1883', adminUsername: 'a' } },
        ['/config/adminPassword'],
      ],
      [
        {
          name: 'bad-2',
          kind: 'emqx',
          config: { hook: { token: 'short', allowFrom: ['10.0.0.0/33', 'nonsense'] } },
        },
        ['/config/hook/allowFrom/0', '/config/hook/allowFrom/1', '/config/hook/token'],
      ],
      [
        { name: 'bad-3', kind: 'emqx', config: { managementUrl: 'http://emqx:18083' } },
        ['/config/apiKey', '/config/apiSecret'],
      ],
      [{ name: 'bad-4', kind: 'go-auth', config: { url: 'mqtt://h' } }, ['/config']],
      [
        { name: 'bad-5', kind: 'vernemq', config: { hook: { basic: { username: 'v' } } } },
        ['/config/hook/basic/password'],
      ],
    ];
    for (const [payload, pointers] of cases) {
      const response = await t.call('POST', '/api/v1/brokers', { cookie: root, payload: payload as object });
      expect(response.statusCode, response.body).toBe(400);
      const problem = response.json();
      expect(['broker.invalid_config', 'request.invalid']).toContain(problem.code);
      if (problem.code === 'broker.invalid_config') {
        expect(problem.errors.map((error: { pointer: string }) => error.pointer).sort()).toEqual(pointers);
      }
    }
    expect((await t.call('POST', '/api/v1/brokers', { cookie: root, payload: mosquitto })).json().code).toBe(
      'broker.exists',
    );
  });

  it('name and kind are immutable; a stale version is a conflict', async () => {
    const renamed = await t.call('PUT', '/api/v1/brokers/mosq-main', {
      cookie: root,
      payload: { name: 'other', config: mosquitto.config },
    });
    expect(renamed.json().code).toBe('broker.immutable');
    const rekind = await t.call('PUT', '/api/v1/brokers/mosq-main', {
      cookie: root,
      payload: { kind: 'emqx', config: {} },
    });
    expect(rekind.json().code).toBe('broker.immutable');
    const stale = await t.call('PUT', '/api/v1/brokers/mosq-main', {
      cookie: root,
      payload: { config: { url: 'mqtt://127.0.0.1:9', adminUsername: 'dynsec-admin' }, version: 99 },
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().code).toBe('broker.version_conflict');
    expect((await t.call('GET', '/api/v1/brokers/nope', { cookie: root })).statusCode).toBe(404);
  });

  it('needs system_config: viewers and operators cannot read or change integrations', async () => {
    await t.createUser({ username: 'vera', role: 'viewer' });
    await t.createUser({ username: 'otto', role: 'operator' });
    for (const username of ['vera', 'otto']) {
      const cookie = await t.login(username);
      expect((await t.call('GET', '/api/v1/brokers', { cookie })).statusCode).toBe(403);
      expect((await t.call('POST', '/api/v1/brokers/mosq-main/sync', { cookie })).statusCode).toBe(403);
      expect((await t.call('DELETE', '/api/v1/brokers/mosq-main', { cookie })).statusCode).toBe(403);
    }
    expect((await t.call('GET', '/api/v1/brokers')).statusCode).toBe(401);
  });

  it('a sync against an unreachable broker answers 502 broker.unreachable, audited, and the status keeps the error', async () => {
    const sync = await t.call('POST', '/api/v1/brokers/mosq-main/sync?dryRun=true', { cookie: root });
    expect(sync.statusCode).toBe(502);
    expect(sync.json().code).toBe('broker.unreachable');
    expect(await lastAudit('broker.sync')).toMatchObject({ outcome: 'failure', target: 'broker:mosq-main' });
    const status = await t.call('GET', '/api/v1/brokers/mosq-main/status', { cookie: root });
    expect(status.json()).toMatchObject({
      name: 'mosq-main',
      kind: 'mosquitto',
      enabled: true,
      // The test server runs its integrations, as `warden serve` does: the users' passwords wait in its queue.
      running: true,
      connected: false,
      pendingPasswords: { count: 3, usernames: ['admin', 'otto', 'vera'], queued: 2 },
    });
    expect(status.json().lastError).toMatch(/connect(ed)? to Mosquitto at mqtt:\/\/127\.0\.0\.1:9/);
  });

  it('hook-only integrations sync nothing and say why', async () => {
    const sync = await t.call('POST', '/api/v1/brokers/emqx-main/sync', { cookie: root });
    expect(sync.statusCode).toBe(200);
    expect(sync.json()).toMatchObject({ integration: 'emqx-main', kind: 'emqx', dryRun: false, changes: [] });
    expect(sync.json().warnings[0]).toMatch(/no management URL/);
    expect(await lastAudit('broker.sync')).toMatchObject({ outcome: 'success', details: { changes: 0 } });
  });

  it('deletes integrations, audited', async () => {
    expect((await t.call('DELETE', '/api/v1/brokers/emqx-main', { cookie: root })).statusCode).toBe(204);
    expect(await lastAudit('broker.update')).toMatchObject({
      target: 'broker:emqx-main',
      details: { change: 'delete' },
    });
    await t.services.brokers.remove(CLI_CONTEXT, 'mosq-main');
    expect((await t.call('GET', '/api/v1/brokers', { cookie: root })).json()).toEqual({
      items: [],
      total: 0,
    });
  });
});
