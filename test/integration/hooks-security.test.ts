import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { emqxAuthz, goAuthAcl, type ReplayRequest, vernemqPublish } from '../contracts/broker-replay.js';
import { createTestContext, ROOT_PASSWORD, type TestContext } from '../helpers/test-app.js';

const TOKEN = 'emqx-hook-token-0123456789';
const BASIC = { username: 'vernemq', password: 'vernemq-basic-secret' };

describe('hook security: credential or allowed network, rate limits, no engine for strangers', () => {
  let t: TestContext;

  function send(
    request: ReplayRequest,
    options: { authorization?: string; remoteAddress?: string; cookie?: string } = {},
  ): Promise<LightMyRequestResponse> {
    return t.app.inject({
      method: 'POST',
      url: request.url,
      payload: request.payload,
      headers: {
        ...request.headers,
        ...(options.authorization ? { authorization: options.authorization } : {}),
        ...(options.cookie ? { cookie: options.cookie } : {}),
      },
      remoteAddress: options.remoteAddress ?? '127.0.0.1',
    });
  }

  const authz = emqxAuthz({
    username: 'dev-1',
    clientid: 'c1',
    action: 'publish',
    topic: 'a/b',
    qos: 0,
    retain: false,
  });
  const basic = `Basic ${Buffer.from(`${BASIC.username}:${BASIC.password}`).toString('base64')}`;

  beforeAll(async () => {
    t = await createTestContext();
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'writer',
      rules: [{ permission: 'allow', action: 'publish', topic: 'a/#' }],
    });
    await t.createUser({ username: 'dev-1', kind: 'device', accessRoles: ['writer'] });
    // Token only: no network is trusted without it.
    await t.services.brokers.create(CLI_CONTEXT, {
      name: 'emqx-1',
      kind: 'emqx',
      config: { hook: { token: TOKEN, allowFrom: [] } },
    });
    // Default: loopback without a credential, and a basic credential from anywhere.
    await t.services.brokers.create(CLI_CONTEXT, {
      name: 'vmq-1',
      kind: 'vernemq',
      config: { hook: { basic: BASIC } },
    });
    await t.services.brokers.create(CLI_CONTEXT, {
      name: 'goauth-1',
      kind: 'go-auth',
      config: { hook: { allowFrom: ['10.20.0.0/16'], ratePerSecond: 1, burst: 2 } },
    });
    await t.services.brokers.start();
  });
  afterAll(async () => {
    await t.services.brokers.stop();
    await t.close();
  });
  afterEach(() => vi.restoreAllMocks());

  it('accepts the bearer token; refuses a missing or wrong one with 401 before any decision is made', async () => {
    // Every path from a hook into the rule engine starts with one of these.
    const peek = vi.spyOn(t.services.access, 'peek');
    const decide = vi.spyOn(t.services.access, 'decide');
    const authenticate = vi.spyOn(t.services.mqttAuth, 'authenticate');
    const findRow = vi.spyOn(t.services.userReader, 'findRow');
    for (const authorization of [
      undefined,
      'Bearer wrong-token-0123456789',
      `Bearer ${TOKEN}x`,
      `Basic ${TOKEN}`,
      TOKEN,
    ]) {
      const response = await send(authz, authorization ? { authorization } : {});
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toBe('auth.required');
    }
    expect(peek).not.toHaveBeenCalled();
    expect(decide).not.toHaveBeenCalled();
    expect(authenticate).not.toHaveBeenCalled();
    expect(findRow).not.toHaveBeenCalled();
    const ok = await send(authz, { authorization: `Bearer ${TOKEN}` });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ result: 'allow' });
    expect(peek).toHaveBeenCalledTimes(1);
  });

  it('a console session is no hook credential', async () => {
    const cookie = await t.login('admin', ROOT_PASSWORD);
    const peek = vi.spyOn(t.services.access, 'peek');
    expect((await send(authz, { cookie })).statusCode).toBe(401);
    expect(peek).not.toHaveBeenCalled();
  });

  it('loopback is allowed by default; other sources need the credential; a wrong credential is refused even on loopback', async () => {
    const publish = vernemqPublish({
      username: 'dev-1',
      clientid: 'c1',
      topic: 'a/b',
      qos: 1,
      retain: false,
    });
    expect((await send(publish)).json()).toEqual({ result: 'ok' });
    const peek = vi.spyOn(t.services.access, 'peek');
    expect((await send(publish, { remoteAddress: '192.0.2.10' })).statusCode).toBe(401);
    expect((await send(publish, { authorization: 'Basic d3Jvbmc6d3Jvbmc=' })).statusCode).toBe(401);
    expect(peek).not.toHaveBeenCalled();
    expect((await send(publish, { remoteAddress: '192.0.2.10', authorization: basic })).json()).toEqual({
      result: 'ok',
    });
    expect((await send(publish, { remoteAddress: '::ffff:127.0.0.1' })).statusCode).toBe(200);
  });

  it('a hook only admits integrations of its own kind', async () => {
    // The EMQX token opens nothing on the go-auth and VerneMQ endpoints.
    const acl = goAuthAcl({ username: 'dev-1', clientid: 'c1', topic: 'a/b', acc: 2 });
    expect(
      (await send(acl, { remoteAddress: '192.0.2.11', authorization: `Bearer ${TOKEN}` })).statusCode,
    ).toBe(401);
    expect((await send(authz, { authorization: basic, remoteAddress: '192.0.2.11' })).statusCode).toBe(401);
  });

  it('rate-limits each source per integration with 429 and Retry-After, separately from other sources', async () => {
    const acl = goAuthAcl({ username: 'dev-1', clientid: 'c1', topic: 'a/b', acc: 2 });
    expect((await send(acl, { remoteAddress: '10.20.1.1' })).statusCode).toBe(200);
    expect((await send(acl, { remoteAddress: '10.20.1.1' })).statusCode).toBe(200);
    const limited = await send(acl, { remoteAddress: '10.20.1.1' });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json().code).toBe('hook.throttled');
    expect((await send(acl, { remoteAddress: '10.20.1.2' })).statusCode).toBe(200);
    t.clock.advance(1_000);
    expect((await send(acl, { remoteAddress: '10.20.1.1' })).statusCode).toBe(200);
  });

  it('a source guessing credentials is throttled after a burst of failures', async () => {
    const source = '198.51.100.7';
    const codes: number[] = [];
    for (let i = 0; i < 32; i++)
      codes.push(
        (await send(authz, { remoteAddress: source, authorization: `Bearer guess-${i}` })).statusCode,
      );
    expect(codes.slice(0, 30).every((code) => code === 401)).toBe(true);
    expect(codes.slice(30)).toEqual([429, 429]);
    // Even the right token waits until the source's failure budget refills.
    const blocked = await send(authz, { remoteAddress: source, authorization: `Bearer ${TOKEN}` });
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    t.clock.advance(2_000);
    expect((await send(authz, { remoteAddress: source, authorization: `Bearer ${TOKEN}` })).statusCode).toBe(
      200,
    );
  });

  it('no hook answers while no integration of its kind runs', async () => {
    await t.services.brokers.stop();
    try {
      expect((await send(authz, { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(401);
    } finally {
      await t.services.brokers.start();
    }
  });
});
