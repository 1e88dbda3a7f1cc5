import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { emqxAuthn, emqxAuthz, type ReplayRequest } from '../contracts/broker-replay.js';
import { createTestContext, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

/**
 * A stand-in for EMQX 5's management API: records every request and answers like EMQX (client lists with
 * `data` and `meta.hasnext`, 204 for kicks and purges).
 */
async function fakeEmqx(clients: Array<{ clientid: string; username: string }>) {
  const requests: Array<{ method: string; path: string; authorization: string }> = [];
  const server = http.createServer((request, response) => {
    requests.push({
      method: request.method ?? '',
      path: request.url ?? '',
      authorization: request.headers.authorization ?? '',
    });
    const url = new URL(request.url ?? '/', 'http://emqx');
    if (request.method === 'GET' && url.pathname === '/api/v5/clients') {
      const username = url.searchParams.get('username');
      const data = clients.filter((client) => username === null || client.username === username);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ data, meta: { page: 1, limit: 1000, count: data.length, hasnext: false } }),
      );
      return;
    }
    response.writeHead(request.method === 'DELETE' ? 204 : 404);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    calls: () => requests.map((request) => `${request.method} ${request.path}`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('EMQX 5 HTTP hooks (replayed EMQX requests) and cache purge through a fake management API', () => {
  let t: TestContext;
  let emqx: Awaited<ReturnType<typeof fakeEmqx>>;

  const send = (request: ReplayRequest): Promise<LightMyRequestResponse> =>
    t.app.inject({ method: 'POST', url: request.url, headers: request.headers, payload: request.payload });

  async function reconfigure(config: Record<string, unknown>): Promise<void> {
    await t.services.brokers.update(CLI_CONTEXT, 'emqx-1', { config });
    await t.services.brokers.idle();
    emqx.requests.length = 0;
  }

  beforeAll(async () => {
    emqx = await fakeEmqx([
      { clientid: 'dev-1-a', username: 'dev-1' },
      { clientid: 'dev-1-b', username: 'dev-1' },
      { clientid: 'dev-2-a', username: 'dev-2' },
      { clientid: 'ghost-a', username: 'ghost' },
    ]);
    t = await createTestContext();
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'sensor',
      rules: [
        { permission: 'deny', action: 'all', topic: 'dt/${username}/secret/#' },
        // HTTP rules (forward-auth) in between: neither the acl nor any hook decision may see them
        { permission: 'allow', action: 'http', path: '/**' },
        { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up', qos: [0, 1] },
        { permission: 'deny', action: 'http', methods: ['POST'], path: '/dt/**' },
        { permission: 'allow', action: 'subscribe', topic: 'cmd/${clientid}/#' },
        { permission: 'allow', action: 'all', topic: 'shared/#', retain: false },
      ],
    });
    await t.createUser({ username: 'dev-1', kind: 'device', accessRoles: ['sensor'] });
    await t.createUser({ username: 'Dev-2', kind: 'device', accessRoles: ['sensor'] });
    await t.createUser({ username: 'sleepy', kind: 'device', accessRoles: ['sensor'] });
    await t.services.users.deactivate(CLI_CONTEXT, 'sleepy');
    await t.services.brokers.create(CLI_CONTEXT, { name: 'emqx-1', kind: 'emqx', config: {} });
    await t.services.brokers.start();
  });
  afterAll(async () => {
    await t.services.brokers.stop();
    await t.close();
    await emqx.close();
  });

  describe('authn', () => {
    beforeEach(() => reconfigure({}));

    it('allows the right password (is_superuser false), denies everything else explicitly with 200', async () => {
      const ok = await send(emqxAuthn({ username: 'dev-1', password: STRONG_PASSWORD, clientid: 'dev-1-a' }));
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['content-type']).toContain('application/json');
      expect(ok.json()).toEqual({ result: 'allow', is_superuser: false });
      for (const request of [
        emqxAuthn({ username: 'dev-1', password: 'Wrong-Passw0rd!', clientid: 'dev-1-a' }),
        emqxAuthn({ username: 'nobody', password: STRONG_PASSWORD, clientid: 'x' }),
        emqxAuthn({ username: 'sleepy', password: STRONG_PASSWORD, clientid: 'x' }),
        emqxAuthn({ username: '', password: '', clientid: 'x' }),
      ]) {
        const response = await send(request);
        expect(response.statusCode).toBe(200);
        expect(response.json()).toEqual({ result: 'deny' });
      }
    });

    it('with unknownUser=ignore lets the next authenticator decide about unknown users only', async () => {
      await reconfigure({ unknownUser: 'ignore' });
      expect((await send(emqxAuthn({ username: 'nobody', password: 'x', clientid: 'x' }))).json()).toEqual({
        result: 'ignore',
      });
      expect((await send(emqxAuthn({ username: 'dev-1', password: 'x', clientid: 'x' }))).json()).toEqual({
        result: 'deny',
      });
    });

    it('accepts a form-encoded body (EMQX with content-type application/x-www-form-urlencoded)', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/hooks/emqx/authn',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          username: 'dev-1',
          password: STRONG_PASSWORD,
          clientid: 'c',
        }).toString(),
      });
      expect(response.json()).toEqual({ result: 'allow', is_superuser: false });
    });

    it('with authnAcl returns the publish rules in order, placeholders kept for EMQX to expand', async () => {
      await reconfigure({ authnAcl: true });
      const response = await send(
        emqxAuthn({ username: 'dev-1', password: STRONG_PASSWORD, clientid: 'dev-1-a' }),
      );
      expect(response.json()).toEqual({
        result: 'allow',
        is_superuser: false,
        acl: [
          { permission: 'deny', action: 'publish', topic: '$SYS/#' },
          { permission: 'deny', action: 'publish', topic: 'dt/${username}/secret/#' },
          { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up', qos: [0, 1] },
          { permission: 'allow', action: 'publish', topic: 'shared/#', retain: false },
        ],
      });
      // EMQX would expand ${username} to "dev-2" while Warden expands it to "Dev-2": no acl, HTTP authz decides.
      const differentCase = await send(
        emqxAuthn({ username: 'dev-2', password: STRONG_PASSWORD, clientid: 'x' }),
      );
      expect(differentCase.json()).toEqual({ result: 'allow', is_superuser: false });
    });

    it('a request missing a field EMQX always sends is a 400 problem, never a 5xx', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/hooks/emqx/authn',
        payload: { username: 'dev-1' },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('request.invalid');
    });
  });

  describe('authz', () => {
    const decide = async (input: Parameters<typeof emqxAuthz>[0]): Promise<string> => {
      const response = await send(emqxAuthz(input));
      expect(response.statusCode).toBe(200);
      return response.json().result;
    };

    it('decides publishes and subscriptions with the QoS and retain flag EMQX sends', async () => {
      const base = { username: 'dev-1', clientid: 'dev-1-a', retain: false };
      expect(await decide({ ...base, action: 'publish', topic: 'dt/dev-1/t/up', qos: 1 })).toBe('allow');
      expect(await decide({ ...base, action: 'publish', topic: 'dt/dev-1/t/up', qos: 2 })).toBe('deny');
      expect(await decide({ ...base, action: 'publish', topic: 'dt/dev-1/secret/up', qos: 0 })).toBe('deny');
      expect(await decide({ ...base, action: 'publish', topic: 'shared/x', qos: 0 })).toBe('allow');
      expect(await decide({ ...base, action: 'publish', topic: 'shared/x', qos: 0, retain: true })).toBe(
        'deny',
      );
      expect(await decide({ ...base, action: 'subscribe', topic: 'cmd/dev-1-a/#', qos: 1 })).toBe('allow');
      expect(await decide({ ...base, action: 'subscribe', topic: 'cmd/dev-1-b/#', qos: 1 })).toBe('deny');
      // EMQX strips $share/<group>/ before asking.
      expect(await decide({ ...base, action: 'subscribe', topic: '$share/g/cmd/dev-1-a/x', qos: 0 })).toBe(
        'allow',
      );
      expect(
        await decide({ ...base, username: 'sleepy', action: 'publish', topic: 'shared/x', qos: 0 }),
      ).toBe('deny');
    });

    it('reads the legacy ${access} field and denies values it cannot read', async () => {
      const body = { username: 'dev-1', clientid: 'dev-1-a', topic: 'shared/x', access: '2' };
      expect(
        (await t.app.inject({ method: 'POST', url: '/api/v1/hooks/emqx/authz', payload: body })).json(),
      ).toEqual({ result: 'allow' });
      for (const odd of [{ action: 'read' }, { action: 'publish', qos: '7' }, { access: '9' }]) {
        const response = await t.app.inject({
          method: 'POST',
          url: '/api/v1/hooks/emqx/authz',
          payload: { username: 'dev-1', clientid: 'c', topic: 'shared/x', ...odd },
        });
        expect(response.json()).toEqual({ result: 'deny' });
      }
    });

    it('unknownUser=ignore passes unknown users on to the next source, never inactive ones', async () => {
      await reconfigure({ unknownUser: 'ignore' });
      const base = { clientid: 'x', action: 'publish' as const, topic: 'shared/x', qos: 0, retain: false };
      expect(await decide({ ...base, username: 'nobody' })).toBe('ignore');
      expect(await decide({ ...base, username: 'sleepy' })).toBe('deny');
      await reconfigure({});
      expect(await decide({ ...base, username: 'nobody' })).toBe('deny');
    });
  });

  describe('management API: purge and kick after changes', () => {
    const management = (): Record<string, unknown> => ({
      managementUrl: emqx.url,
      apiKey: 'warden',
      apiSecret: 'emqx-api-secret',
    });

    it("starting purges every node's cache; a dry-run plans kicks for clients of unknown and inactive users", async () => {
      await reconfigure(management());
      // The start-up reconcile ran during reconfigure: kicked the unknown user's client and purged everything.
      await t.services.brokers.update(CLI_CONTEXT, 'emqx-1', { config: management() });
      await t.services.brokers.idle();
      expect(emqx.calls()).toEqual([
        'GET /api/v5/clients?limit=1000&page=1',
        'DELETE /api/v5/clients/ghost-a',
        'DELETE /api/v5/authorization/cache',
      ]);
      expect(emqx.requests[0]?.authorization).toBe(
        `Basic ${Buffer.from('warden:emqx-api-secret').toString('base64')}`,
      );
      emqx.requests.length = 0;
      const report = await t.services.brokers.sync(CLI_CONTEXT, 'emqx-1', { dryRun: true });
      expect(report.changes.map((change) => `${change.action} ${change.name}`)).toEqual([
        'kick ghost-a',
        'purge *',
      ]);
      expect(emqx.calls()).toEqual(['GET /api/v5/clients?limit=1000&page=1']);
    });

    it("a rule change purges the cache of the affected users' clients once Warden answers the new way", async () => {
      await reconfigure(management());
      await send(
        emqxAuthz({
          username: 'dev-1',
          clientid: 'dev-1-a',
          action: 'publish',
          topic: 'shared/x',
          qos: 0,
          retain: false,
        }),
      );
      await t.services.accessRoles.update(CLI_CONTEXT, 'sensor', {
        rules: [{ permission: 'allow', action: 'publish', topic: 'other/#' }],
      });
      await t.services.brokers.idle();
      // Every holder of the role that Warden has looked at is handled (Dev-2 and sleepy have no clients here).
      expect(emqx.calls().sort()).toEqual(
        [
          'GET /api/v5/clients?limit=1000&page=1&username=dev-1',
          'GET /api/v5/clients?limit=1000&page=1&username=Dev-2',
          'GET /api/v5/clients?limit=1000&page=1&username=sleepy',
          'DELETE /api/v5/clients/dev-1-a/authorization/cache',
          'DELETE /api/v5/clients/dev-1-b/authorization/cache',
        ].sort(),
      );
      expect(
        (
          await send(
            emqxAuthz({
              username: 'dev-1',
              clientid: 'dev-1-a',
              action: 'publish',
              topic: 'shared/x',
              qos: 0,
              retain: false,
            }),
          )
        ).json(),
      ).toEqual({ result: 'deny' });
    });

    it("deactivation and a new password kick the user's clients", async () => {
      await reconfigure(management());
      await t.services.users.setPassword(CLI_CONTEXT, 'dev-1', 'N3w-Passw0rd!x');
      await t.services.brokers.idle();
      expect(emqx.calls()).toEqual([
        'GET /api/v5/clients?limit=1000&page=1&username=dev-1',
        'DELETE /api/v5/clients/dev-1-a',
        'DELETE /api/v5/clients/dev-1-b',
      ]);
      emqx.requests.length = 0;
      await t.services.users.deactivate(CLI_CONTEXT, 'Dev-2');
      await t.services.brokers.idle();
      expect(emqx.calls()).toEqual(['GET /api/v5/clients?limit=1000&page=1&username=Dev-2']);
    });

    it('a secret rotated with a grace period: both secrets pass the hook meanwhile, the kick comes when it ends', async () => {
      await reconfigure(management());
      const { password: first } = await t.services.users.createGenerated(CLI_CONTEXT, {
        username: 'dev-9',
        role: 'viewer',
        kind: 'device',
        accessRoles: ['sensor'],
      });
      await t.services.brokers.idle();
      emqx.requests.length = 0;
      const { secret } = await t.services.users.rotateSecret(CLI_CONTEXT, 'dev-9', { graceMinutes: 5 });
      await t.services.brokers.idle();
      expect(emqx.calls()).toEqual([]);
      const current = await send(emqxAuthn({ username: 'dev-9', password: secret, clientid: 'dev-9-a' }));
      expect(current.json()).toEqual({ result: 'allow', is_superuser: false });
      // The previous secret has an end: EMQX (≥ 5.8) closes the connection then by itself (expire_at).
      const previous = await send(emqxAuthn({ username: 'dev-9', password: first, clientid: 'dev-9-a' }));
      expect(previous.json()).toEqual({
        result: 'allow',
        is_superuser: false,
        expire_at: Math.floor((t.clock.now() + 5 * 60_000) / 1000),
      });
      t.clock.advance(5 * 60_000);
      await t.services.brokers.idle();
      expect(emqx.calls()).toEqual(['GET /api/v5/clients?limit=1000&page=1&username=dev-9']);
      const late = await send(emqxAuthn({ username: 'dev-9', password: first, clientid: 'dev-9-a' }));
      expect(late.json()).toEqual({ result: 'deny' });
    });

    it('with authnAcl a rule change kicks instead of purging (the acl is frozen for the connection)', async () => {
      await reconfigure({ ...management(), authnAcl: true });
      await send(emqxAuthn({ username: 'dev-1', password: 'N3w-Passw0rd!x', clientid: 'dev-1-a' }));
      await t.services.accessRoles.update(CLI_CONTEXT, 'sensor', {
        rules: [{ permission: 'allow', action: 'publish', topic: 'again/#' }],
      });
      await t.services.brokers.idle();
      expect(emqx.calls().sort()).toEqual(
        [
          'GET /api/v5/clients?limit=1000&page=1&username=dev-1',
          'GET /api/v5/clients?limit=1000&page=1&username=Dev-2',
          'GET /api/v5/clients?limit=1000&page=1&username=sleepy',
          'DELETE /api/v5/clients/dev-1-a',
          'DELETE /api/v5/clients/dev-1-b',
        ].sort(),
      );
    });

    it('an unreachable management API shows in the status and fails a manual sync with 502', async () => {
      await reconfigure({
        managementUrl: 'http://127.0.0.1:9',
        apiKey: 'k',
        apiSecret: 'unreachable-secret',
      });
      await expect(t.services.brokers.sync(CLI_CONTEXT, 'emqx-1', { dryRun: false })).rejects.toMatchObject({
        code: 'broker.unreachable',
        status: 502,
      });
      const status = await t.services.brokers.status('emqx-1');
      expect(status.connected).toBe(false);
      expect(status.lastError).toMatch(/fetch failed|ECONNREFUSED/);
    });
  });
});
