import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { goAuthUser } from '../contracts/broker-replay.js';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

const OUTSIDE = '10.9.8.7';

describe.each(ENGINES)('apiAllowFrom: IP restrictions on the management API (%s)', (engine) => {
  let t: TestContext;
  let admin: string;

  /** One call from a chosen source address (inject's default is 127.0.0.1). */
  const from = (
    remoteAddress: string,
    method: 'GET' | 'PUT' | 'POST',
    url: string,
    options: { cookie?: string; payload?: object | string; headers?: Record<string, string> } = {},
  ) =>
    t.app.inject({
      method,
      url,
      remoteAddress,
      headers: { ...(options.cookie ? { cookie: options.cookie } : {}), ...options.headers },
      ...(options.payload ? { payload: options.payload } : {}),
    });

  async function putAllowFrom(list: string[], remoteAddress = '127.0.0.1') {
    const security = await t.services.settings.getSecurity();
    return from(remoteAddress, 'PUT', '/api/v1/settings/security', {
      cookie: admin,
      payload: { ...security, apiAllowFrom: list },
    });
  }

  beforeEach(async () => {
    t = await createTestContext({ engine });
    admin = await t.login('admin', ROOT_PASSWORD);
  });
  afterEach(() => t.close());

  it('answers only the listed networks; others get 403 request.ip_not_allowed before anything else', async () => {
    const saved = await putAllowFrom(['127.0.0.1', '2001:db8::/32']);
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json().apiAllowFrom).toEqual(['127.0.0.1', '2001:db8::/32']);

    expect((await from('127.0.0.1', 'GET', '/api/v1/users', { cookie: admin })).statusCode).toBe(200);
    expect((await from('2001:db8::7', 'GET', '/api/v1/users', { cookie: admin })).statusCode).toBe(200);
    for (const response of [
      await from(OUTSIDE, 'GET', '/api/v1/users', { cookie: admin }),
      // Not signed in, a login, an unknown path: the address is decided first, so nothing else is revealed.
      await from(OUTSIDE, 'GET', '/api/v1/users'),
      await from(OUTSIDE, 'POST', '/api/v1/auth/login', { payload: { username: 'admin', password: 'x' } }),
      await from(OUTSIDE, 'GET', '/api/v1/no-such-route'),
      await from('2001:db9::1', 'GET', '/api/v1/users', { cookie: admin }),
    ]) {
      expect(response.statusCode).toBe(403);
      expect(response.json().code).toBe('request.ip_not_allowed');
    }
    // The login refused from outside never reached the throttle or the audit log.
    const audit = await t.services.audit.list({ action: 'auth.login' }, 1, 250);
    expect(audit.items.filter((event) => event.ip === OUTSIDE)).toEqual([]);
  });

  it('leaves health, /metrics and the broker hooks alone', async () => {
    await t.createUser({ username: 'dev-1', kind: 'device' });
    await t.services.brokers.create(CLI_CONTEXT, {
      name: 'goauth-1',
      kind: 'go-auth',
      config: { hook: { allowFrom: ['10.0.0.0/8'] } },
    });
    const created = await t.call('POST', '/api/v1/scrape-tokens', {
      cookie: admin,
      payload: { name: 'prom' },
    });
    const { secret } = created.json() as { secret: string };
    expect((await putAllowFrom(['127.0.0.0/8'])).statusCode).toBe(200);

    expect((await from(OUTSIDE, 'GET', '/healthz')).statusCode).toBe(200);
    expect((await from(OUTSIDE, 'GET', '/readyz')).statusCode).toBe(200);
    const scrape = await from(OUTSIDE, 'GET', '/metrics', { headers: { authorization: `Bearer ${secret}` } });
    expect(scrape.statusCode).toBe(200);
    const hook = goAuthUser({ username: 'dev-1', password: STRONG_PASSWORD, clientid: 'gw' });
    const answered = await from(OUTSIDE, 'POST', hook.url, {
      headers: hook.headers,
      payload: hook.payload,
    });
    expect(answered.statusCode).toBe(200);
  });

  it('refuses a change that would lock out the requester, and entries that are not CIDRs', async () => {
    const lockout = await putAllowFrom(['10.0.0.0/8', '2001:db8::/32']);
    expect(lockout.statusCode).toBe(400);
    expect(lockout.json().code).toBe('settings.locks_out_requester');
    const fromV6 = await putAllowFrom(['10.0.0.0/8'], '2001:db8::1');
    expect(fromV6.json().code).toBe('settings.locks_out_requester');
    for (const bad of [['10.0.0.0/33'], ['nonsense'], ['10.0.0.0/8/1'], ['2001:db8::/129']]) {
      const refused = await putAllowFrom(['127.0.0.1', ...bad]);
      expect(refused.statusCode).toBe(400);
      expect(refused.json().code).toBe('settings.invalid');
      expect(refused.json().errors[0].pointer).toBe('/apiAllowFrom/1');
    }
    expect((await t.services.settings.getSecurity()).apiAllowFrom).toEqual([]);
    // A document without the key (an older console or script) keeps what is stored.
    expect((await putAllowFrom(['127.0.0.1'])).statusCode).toBe(200);
    const { apiAllowFrom: _omitted, ...older } = await t.services.settings.getSecurity();
    const kept = await t.call('PUT', '/api/v1/settings/security', { cookie: admin, payload: older });
    expect(kept.json().apiAllowFrom).toEqual(['127.0.0.1']);
  });

  it('names the requester address (trustProxy applied) for the console', async () => {
    const response = await from('2001:db8::42', 'GET', '/api/v1/settings/requester-address', {
      cookie: admin,
    });
    expect(response.json()).toEqual({ address: '2001:db8::42' });
  });
});

describe('apiAllowFrom behind a trusted proxy', () => {
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext({ app: { trustProxy: true } });
  });
  afterEach(() => t.close());

  it('decides on the client address the proxy forwarded', async () => {
    const admin = await t.login('admin', ROOT_PASSWORD);
    const security = await t.services.settings.getSecurity();
    await t.call('PUT', '/api/v1/settings/security', {
      cookie: admin,
      payload: { ...security, apiAllowFrom: ['127.0.0.1', '192.0.2.0/24'] },
    });
    const forwarded = (address: string) =>
      t.call('GET', '/api/v1/users', { cookie: admin, headers: { 'x-forwarded-for': address } });
    expect((await forwarded('192.0.2.10')).statusCode).toBe(200);
    expect((await forwarded(OUTSIDE)).json().code).toBe('request.ip_not_allowed');
  });
});
