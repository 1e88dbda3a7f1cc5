import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTtl } from '../../src/cli/commands/mqtt-token.command.js';
import { loadConfig } from '../../src/config/config.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { openRuntime } from '../../src/runtime.js';
import { type CliResult, createCliDataDir, runCliCaptured } from '../helpers/cli.js';
import { createTestContext, ROOT_PASSWORD, type TestContext } from '../helpers/test-app.js';

interface Issued {
  token: string;
  expiresAt: string;
  username: string;
}

describe('POST /api/v1/me/mqtt-token', () => {
  let t: TestContext;
  let viewer: string;

  beforeAll(async () => {
    t = await createTestContext();
    await t.createUser({ username: 'vera', role: 'viewer' });
    viewer = await t.login('vera');
  });
  afterAll(() => t.close());

  it('issues any signed-in user (a viewer too) a token for itself, valid 15 minutes by default, audited without it', async () => {
    const response = await t.call('POST', '/api/v1/me/mqtt-token', { cookie: viewer, payload: {} });
    expect(response.statusCode).toBe(200);
    const issued = response.json() as Issued;
    const vera = await t.services.userReader.mustFindRow('vera');
    const claims = decodeJwt(issued.token);
    expect(claims).toMatchObject({
      iss: 'warden',
      aud: 'warden-mqtt',
      sub: vera.id,
      jti: expect.any(String),
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);
    expect(issued).toMatchObject({
      username: 'vera',
      expiresAt: new Date((claims.exp as number) * 1000).toISOString(),
    });
    const [event] = (await t.services.audit.list({ action: 'mqtt_token.issue' }, 1, 10)).items;
    expect(event).toMatchObject({
      actor: { name: 'user:vera' },
      target: 'user:vera',
      outcome: 'success',
      details: { jti: claims.jti, ttlSeconds: 900, expiresAt: issued.expiresAt },
    });
    const everything = JSON.stringify(await t.services.audit.list({}, 1, 250));
    expect(everything).not.toContain(issued.token);
    expect(everything).not.toContain(issued.token.split('.')[2]);
  });

  it('takes a lifetime of 60 to 3600 seconds; others are 400', async () => {
    const issue = (payload: object) => t.call('POST', '/api/v1/me/mqtt-token', { cookie: viewer, payload });
    const hour = (await issue({ ttlSeconds: 3600 })).json() as Issued;
    const claims = decodeJwt(hour.token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    for (const ttlSeconds of [3601, 59, 0, -5, 90.5, 'soon']) {
      const refused = await issue({ ttlSeconds });
      expect(refused.statusCode, String(ttlSeconds)).toBe(400);
      expect(refused.json()).toMatchObject({ code: 'request.invalid' });
    }
    expect((await issue({ ttl: 60 })).statusCode).toBe(400);
  });

  it('is refused for API keys (403 auth.session_required) and without a session (401)', async () => {
    const admin = await t.login('admin', ROOT_PASSWORD);
    const created = await t.call('POST', '/api/v1/api-keys', {
      cookie: admin,
      payload: { name: 'script', owner: 'admin', role: 'admin', scopes: ['user_management'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { key } = created.json() as { key: string };
    const withKey = await t.call('POST', '/api/v1/me/mqtt-token', {
      headers: { authorization: `Bearer ${key}` },
      payload: {},
    });
    expect(withKey.statusCode).toBe(403);
    expect(withKey.json()).toMatchObject({ code: 'auth.session_required' });
    const anonymous = await t.call('POST', '/api/v1/me/mqtt-token', { payload: {} });
    expect(anonymous.statusCode).toBe(401);
    expect(
      (await t.services.audit.list({ action: 'mqtt_token.issue', actor: 'user:admin' }, 1, 10)).total,
    ).toBe(0);
  });

  it('a token issued by one instance verifies on another sharing WARDEN_SECRET_KEY (no shared state)', async () => {
    const { token } = (
      await t.call('POST', '/api/v1/me/mqtt-token', { cookie: viewer, payload: {} })
    ).json() as Issued;
    const result = await t.services.mqttAuth.authenticate({
      username: 'vera',
      password: Buffer.from(token),
      clientId: 'c',
      ip: '192.0.2.1',
    });
    expect(result).toMatchObject({ ok: true, verified: 'token', user: { username: 'vera' } });
  });

  it('the service refuses deactivated users and out-of-range lifetimes with their own codes', async () => {
    await t.createUser({ username: 'gone', kind: 'device' });
    await t.services.users.deactivate(CLI_CONTEXT, 'gone');
    await expect(t.services.mqttTokens.issueFor(CLI_CONTEXT, 'gone', {})).rejects.toMatchObject({
      code: 'mqtt_token.user_inactive',
    });
    await expect(
      t.services.mqttTokens.issueFor(CLI_CONTEXT, 'vera', { ttlSeconds: 7200 }),
    ).rejects.toMatchObject({
      code: 'mqtt_token.ttl_out_of_range',
    });
  });
});

describe('warden mqtt-token', () => {
  let env: Record<string, string>;
  let remove: () => void;

  beforeAll(async () => {
    ({ env, remove } = await createCliDataDir('warden-mqtt-token-cli-'));
  });
  afterAll(() => remove());

  const cli = (...argv: string[]): Promise<CliResult> => runCliCaptured(env, argv);

  it('reads durations as seconds, minutes or hours', () => {
    expect([parseTtl('90s'), parseTtl('15m'), parseTtl('1h'), parseTtl('600')]).toEqual([90, 900, 3600, 600]);
    for (const bad of ['15 minutes', '1.5h', '-1m', ''])
      expect(() => parseTtl(bad), bad).toThrow(/--ttl must be a duration/);
  });

  it('prints a token for a user that the MQTT authentication accepts, audited as cli', async () => {
    expect((await cli('users', 'create', 'plc-01', '--kind', 'device', '--role', 'viewer')).code).toBe(0);
    const result = await cli('mqtt-token', '--user', 'plc-01', '--ttl', '5m', '--json');
    expect(result.code, result.err).toBe(0);
    const issued = JSON.parse(result.out) as Issued;
    const claims = decodeJwt(issued.token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);
    const text = await cli('mqtt-token', '--user', 'plc-01');
    expect(text.out).toMatch(
      /^MQTT token for plc-01, valid until \S+Z \(shown only now\):\neyJ[\w-]+\.[\w-]+\.[\w-]+\n$/,
    );
    const runtime = await openRuntime(loadConfig(env));
    try {
      const accepted = await runtime.services.mqttAuth.authenticate({
        username: 'plc-01',
        password: Buffer.from(issued.token),
        clientId: 'plc-01-a',
        ip: '192.0.2.1',
      });
      expect(accepted).toMatchObject({ ok: true, user: { username: 'plc-01' } });
      const [event] = (await runtime.services.audit.list({ action: 'mqtt_token.issue' }, 1, 10)).items;
      expect(event).toMatchObject({ actor: { type: 'cli', name: 'cli' }, target: 'user:plc-01' });
    } finally {
      await runtime.close();
    }
  });

  it('fails with the error code for an unknown user, a lifetime out of range or bad usage', async () => {
    const unknown = await cli('mqtt-token', '--user', 'nobody', '--json');
    expect(unknown.code).not.toBe(0);
    expect(unknown.out + unknown.err).toContain('user.not_found');
    const long = await cli('mqtt-token', '--user', 'admin', '--ttl', '2h');
    expect(long.code).not.toBe(0);
    expect(long.out + long.err).toContain('mqtt_token.ttl_out_of_range');
    expect((await cli('mqtt-token')).code).toBe(2);
    expect((await cli('mqtt-token', '--user', 'admin', '--ttl', 'soon')).code).toBe(2);
  });
});
