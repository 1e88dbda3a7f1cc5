import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import {
  goAuthAcl,
  goAuthAclForm,
  goAuthUser,
  type ReplayRequest,
  vernemqPublish,
  vernemqRegister,
  vernemqSubscribe,
} from '../contracts/broker-replay.js';
import { createTestContext, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

describe('mosquitto-go-auth HTTP backend and VerneMQ webhooks (replayed requests)', () => {
  let t: TestContext;

  const send = (request: ReplayRequest, query = ''): Promise<LightMyRequestResponse> =>
    t.app.inject({
      method: 'POST',
      url: `${request.url}${query}`,
      headers: request.headers,
      payload: request.payload,
    });

  beforeAll(async () => {
    t = await createTestContext();
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'sensor',
      rules: [
        { permission: 'deny', action: 'all', topic: 'dt/${username}/secret/#' },
        { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up' },
        { permission: 'allow', action: 'publish', topic: 'dt/${username}/q/up', qos: [0] },
        { permission: 'allow', action: 'subscribe', topic: 'cmd/${clientid}/#' },
        { permission: 'allow', action: 'subscribe', topic: 'fleet/#', retain: false },
      ],
    });
    await t.createUser({ username: 'dev-1', kind: 'device', accessRoles: ['sensor'] });
    await t.services.brokers.create(CLI_CONTEXT, { name: 'goauth-1', kind: 'go-auth', config: {} });
    await t.services.brokers.create(CLI_CONTEXT, {
      name: 'vmq-1',
      kind: 'vernemq',
      config: { unknownUser: 'next' },
    });
    await t.services.brokers.start();
  });
  afterAll(async () => {
    await t.services.brokers.stop();
    await t.close();
  });

  describe('go-auth', () => {
    it('user: the password decides; status mode answers 200 or 403', async () => {
      expect(
        (await send(goAuthUser({ username: 'dev-1', password: STRONG_PASSWORD, clientid: 'c' }))).statusCode,
      ).toBe(200);
      expect(
        (await send(goAuthUser({ username: 'dev-1', password: 'nope', clientid: 'c' }))).statusCode,
      ).toBe(403);
      expect(
        (await send(goAuthUser({ username: 'ghost', password: 'nope', clientid: 'c' }))).statusCode,
      ).toBe(403);
    });

    it('superuser: always refused (Warden has no MQTT superusers)', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/hooks/go-auth/superuser',
        payload: { username: 'dev-1' },
      });
      expect(response.statusCode).toBe(403);
    });

    it('acl: acc 1 = delivery, 2 = publish, 4 = subscribe with the full $share string', async () => {
      const acl = async (topic: string, acc: 1 | 2 | 4, clientid = 'dev-1-a'): Promise<number> =>
        (await send(goAuthAcl({ username: 'dev-1', clientid, topic, acc }))).statusCode;
      expect(await acl('dt/dev-1/t/up', 2)).toBe(200);
      expect(await acl('dt/dev-1/secret/up', 2)).toBe(403);
      expect(await acl('dt/dev-2/t/up', 2)).toBe(403);
      expect(await acl('cmd/dev-1-a/x', 4)).toBe(200);
      expect(await acl('$share/g/cmd/dev-1-a/x', 4)).toBe(200);
      expect(await acl('cmd/dev-1-b/x', 4)).toBe(403);
      expect(await acl('cmd/dev-1-a/x', 1)).toBe(200);
      expect(await acl('cmd/dev-1-a/x', 1, 'dev-1-b')).toBe(403);
      expect(await acl('cmd/dev-1-a/x', 8 as 4)).toBe(403);
    });

    it('acl without QoS or retain in the request allows only what every QoS and retain flag may do', async () => {
      const acl = async (topic: string, acc: 1 | 2 | 4): Promise<number> =>
        (await send(goAuthAcl({ username: 'dev-1', clientid: 'c', topic, acc }))).statusCode;
      // dt/dev-1/q/up is allowed by the unrestricted rule before it: every QoS.
      expect(await acl('dt/dev-1/q/up', 2)).toBe(200);
      // fleet/# delivers only non-retained messages: a delivery of unknown retain flag is refused.
      expect(await acl('fleet/a', 1)).toBe(403);
      expect(await acl('fleet/#', 4)).toBe(200);
    });

    it('form params mode and the json / text response modes', async () => {
      const form = goAuthAclForm({ username: 'dev-1', clientid: 'c', topic: 'dt/dev-1/t/up', acc: 2 });
      expect((await send(form)).statusCode).toBe(200);
      const json = await send(form, '?responseMode=json');
      expect(json.statusCode).toBe(200);
      expect(json.json()).toEqual({ ok: true });
      const denied = await send(
        goAuthAclForm({ username: 'dev-1', clientid: 'c', topic: 'x', acc: 2 }),
        '?responseMode=json',
      );
      expect(denied.statusCode).toBe(200);
      expect(denied.json()).toMatchObject({ ok: false, error: expect.stringContaining('not authorized') });
      const text = await send(form, '?responseMode=text');
      expect(text.body).toBe('ok');
      expect(
        (
          await send(
            goAuthAclForm({ username: 'dev-1', clientid: 'c', topic: 'x', acc: 2 }),
            '?responseMode=text',
          )
        ).body,
      ).toBe('denied');
      await t.services.brokers.update(CLI_CONTEXT, 'goauth-1', { config: { responseMode: 'json' } });
      expect((await send(form)).json()).toEqual({ ok: true });
      await t.services.brokers.update(CLI_CONTEXT, 'goauth-1', { config: {} });
    });

    it('a body without acc is a 400 problem', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/hooks/go-auth/acl',
        payload: { username: 'dev-1', topic: 'x' },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('request.invalid');
    });
  });

  describe('VerneMQ', () => {
    it('auth_on_register (v3 and m5): ok, not_allowed, or next for unknown users', async () => {
      expect(
        (await send(vernemqRegister({ username: 'dev-1', password: STRONG_PASSWORD, clientid: 'c' }))).json(),
      ).toEqual({ result: 'ok' });
      expect(
        (
          await send(
            vernemqRegister({ username: 'dev-1', password: STRONG_PASSWORD, clientid: 'c', m5: true }),
          )
        ).json(),
      ).toEqual({ result: 'ok' });
      expect(
        (await send(vernemqRegister({ username: 'dev-1', password: 'nope', clientid: 'c' }))).json(),
      ).toEqual({ result: { error: 'not_allowed' } });
      expect(
        (await send(vernemqRegister({ username: 'ghost', password: 'nope', clientid: 'c' }))).json(),
      ).toEqual({ result: 'next' });
    });

    it("auth_on_publish decides with the packet's QoS", async () => {
      const publish = (topic: string, qos: number, m5 = false) =>
        send(vernemqPublish({ username: 'dev-1', clientid: 'c', topic, qos, retain: false, m5 }));
      expect((await publish('dt/dev-1/t/up', 2)).json()).toEqual({ result: 'ok' });
      expect((await publish('dt/dev-1/secret/up', 0, true)).json()).toEqual({
        result: { error: 'not_allowed' },
      });
    });

    it('auth_on_subscribe rejects only the refused filters: qos 128 top-level (v3), 135 in modifiers (m5)', async () => {
      const topics = [
        { topic: 'cmd/dev-1-a/#', qos: 1 },
        { topic: 'cmd/dev-1-b/#', qos: 1 },
        { topic: '$share/g/fleet/x', qos: 2 },
      ];
      expect(
        (await send(vernemqSubscribe({ username: 'dev-1', clientid: 'dev-1-a', topics }))).json(),
      ).toEqual({
        result: 'ok',
        topics: [
          { topic: 'cmd/dev-1-a/#', qos: 1 },
          { topic: 'cmd/dev-1-b/#', qos: 128 },
          { topic: '$share/g/fleet/x', qos: 2 },
        ],
      });
      expect(
        (await send(vernemqSubscribe({ username: 'dev-1', clientid: 'dev-1-a', topics, m5: true }))).json(),
      ).toEqual({
        result: 'ok',
        modifiers: {
          topics: [
            { topic: 'cmd/dev-1-a/#', qos: 1 },
            { topic: 'cmd/dev-1-b/#', qos: 135 },
            { topic: '$share/g/fleet/x', qos: 2 },
          ],
        },
      });
      expect(
        (
          await send(vernemqSubscribe({ username: 'dev-1', clientid: 'dev-1-a', topics: topics.slice(0, 1) }))
        ).json(),
      ).toEqual({
        result: 'ok',
      });
    });

    it('refuses a hook it does not answer and a header that contradicts the URL', async () => {
      const unknown = await t.app.inject({
        method: 'POST',
        url: '/api/v1/hooks/vernemq/on_deliver',
        payload: {},
      });
      expect(unknown.statusCode).toBe(400);
      const request = vernemqPublish({ username: 'dev-1', clientid: 'c', topic: 'x', qos: 0, retain: false });
      const mismatch = await t.app.inject({
        method: 'POST',
        url: request.url,
        headers: { ...request.headers, 'vernemq-hook': 'auth_on_subscribe' },
        payload: request.payload,
      });
      expect(mismatch.statusCode).toBe(400);
    });
  });

  it('counts hook traffic in the status', async () => {
    const status = await t.services.brokers.status('vmq-1');
    expect(status).toMatchObject({ kind: 'vernemq', running: true, connected: null });
    expect(status.hooks?.requests).toBeGreaterThan(0);
  });
});
