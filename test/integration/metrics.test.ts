import { Writable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../src/integrations/aedes/embedded-broker.js';
import { DB_GAUGE_TTL_MS } from '../../src/modules/metrics/metrics.service.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { goAuthUser } from '../contracts/broker-replay.js';
import { ENGINES } from '../helpers/databases.js';
import { startLocalBroker } from '../helpers/local-broker.js';
import { mqttClients, subackCodes } from '../helpers/mqtt-inbox.js';
import { hasFamily, parseExposition, type Sample, sampleValue } from '../helpers/prometheus.js';
import {
  createTestContext,
  enrolTotp,
  ROOT_PASSWORD,
  STRONG_PASSWORD,
  type TestContext,
  totpCode,
} from '../helpers/test-app.js';

const WRONG = 'Wrong-Passw0rd!';

/** Creates a scrape token through the API and returns its secret. */
async function createToken(
  t: TestContext,
  cookie: string,
  body: Record<string, unknown> = { name: 'prometheus' },
): Promise<{ id: string; secret: string }> {
  const response = await t.call('POST', '/api/v1/scrape-tokens', { cookie, payload: body });
  expect(response.statusCode, response.body).toBe(201);
  const created = response.json() as { token: { id: string }; secret: string };
  return { id: created.token.id, secret: created.secret };
}

function scrapeWith(t: TestContext, authorization?: string, remoteAddress?: string) {
  return t.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: authorization === undefined ? {} : { authorization },
    ...(remoteAddress ? { remoteAddress } : {}),
  });
}

async function scrape(t: TestContext, secret: string): Promise<Sample[]> {
  const response = await scrapeWith(t, `Bearer ${secret}`);
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['content-type']).toContain('text/plain');
  return parseExposition(response.body);
}

/** What a refusal says, without the per-request members. */
function refusalOf(response: LightMyRequestResponse): Record<string, unknown> {
  const { requestId: _r, instance: _i, ...rest } = response.json() as Record<string, unknown>;
  return { status: response.statusCode, ...rest };
}

describe.each(ENGINES)('metrics and scrape tokens (%s)', (engine) => {
  let t: TestContext;
  let admin: string;
  let broker: EmbeddedBroker;
  const clients = mqttClients(() => broker.url as string);

  beforeEach(async () => {
    t = await createTestContext({ engine });
    broker = await startLocalBroker(t.services);
    admin = await t.login('admin', ROOT_PASSWORD);
  });
  afterEach(async () => {
    await clients.closeAll();
    await broker.close();
    await t.close();
  });

  it('counts real traffic: logins, throttling, embedded-broker decisions, hooks, users and sessions', async () => {
    const { secret } = await createToken(t, admin);
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'sensor',
      rules: [
        { permission: 'allow', action: 'publish', topic: 'dt/${username}/#' },
        { permission: 'allow', action: 'subscribe', topic: 'dt/${username}/#' },
      ],
    });
    await t.createUser({ username: 'dev-1', kind: 'device', accessRoles: ['sensor'] });
    await t.createUser({ username: 'alice', role: 'operator' });
    await t.services.brokers.create(CLI_CONTEXT, { name: 'goauth-1', kind: 'go-auth', config: {} });
    const before = await scrape(t, secret);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);

    // Console logins: one success, three wrong passwords, then the throttle's delay refuses the fourth.
    await t.login('alice');
    for (let i = 0; i < 3; i += 1) {
      const failed = await t.call('POST', '/api/v1/auth/login', {
        payload: { username: 'alice', password: WRONG },
      });
      expect(failed.statusCode).toBe(401);
    }
    const throttled = await t.call('POST', '/api/v1/auth/login', {
      payload: { username: 'alice', password: STRONG_PASSWORD },
    });
    expect(throttled.statusCode).toBe(429);

    // The embedded broker: a refused and an accepted CONNECT, publishes and subscriptions both ways, a delivery.
    await expect(clients.connect('dev-1', WRONG)).rejects.toThrow();
    const device = await clients.connect('dev-1', STRONG_PASSWORD);
    expect(await subackCodes(device, ['dt/dev-1/#', 'dt/dev-2/#'], 1)).toEqual([1, 128]);
    const delivered = new Promise<string>((resolve) => device.once('message', (topic) => resolve(topic)));
    await device.publishAsync('dt/dev-1/temp', '21.5', { qos: 1 });
    await device.publishAsync('dt/dev-2/temp', 'not mine', { qos: 1 });
    expect(await delivered).toBe('dt/dev-1/temp');

    // A broker hook: mosquitto-go-auth checking the device's password from loopback.
    const hook = goAuthUser({ username: 'dev-1', password: STRONG_PASSWORD, clientid: 'gw-1' });
    const answered = await t.app.inject({
      method: 'POST',
      url: hook.url,
      headers: hook.headers,
      payload: hook.payload,
    });
    expect(answered.statusCode).toBe(200);

    // Database gauges are cached for a few seconds.
    t.clock.advance(DB_GAUGE_TTL_MS);
    const after = await scrape(t, secret);

    expect(delta('warden_logins_total', { outcome: 'success', reason: 'none' })).toBe(1);
    expect(delta('warden_logins_total', { outcome: 'failure', reason: 'wrong_password' })).toBe(3);
    expect(delta('warden_logins_total', { outcome: 'failure', reason: 'throttled' })).toBe(1);
    expect(delta('warden_throttled_attempts_total', { action: 'auth.login' })).toBe(1);
    const embedded = (action: string, result: string) =>
      delta('warden_mqtt_decisions_total', { point: 'embedded', action, result });
    expect(embedded('connect', 'allow')).toBe(1);
    expect(embedded('connect', 'deny')).toBe(1);
    expect(embedded('subscribe', 'allow')).toBe(1);
    expect(embedded('subscribe', 'deny')).toBe(1);
    expect(embedded('publish', 'allow')).toBe(1);
    expect(embedded('publish', 'deny')).toBe(1);
    expect(embedded('receive', 'allow')).toBe(1);
    expect(sampleValue(after, 'warden_mqtt_connections')).toBe(1);
    expect(
      delta('warden_mqtt_decisions_total', { point: 'go-auth', action: 'connect', result: 'allow' }),
    ).toBe(1);
    expect(delta('warden_hook_requests_total', { kind: 'go-auth', status: '200' })).toBe(1);
    expect(delta('warden_hook_request_duration_seconds_count', { kind: 'go-auth' })).toBe(1);
    for (const role of ['admin', 'operator', 'viewer'])
      expect(sampleValue(after, 'warden_users', { role, status: 'active' })).toBe(1);
    expect(sampleValue(after, 'warden_users', { status: 'inactive' })).toBe(0);
    expect(delta('warden_sessions_active')).toBe(1);
    expect(sampleValue(after, 'warden_integration_up', { name: 'goauth-1', kind: 'go-auth' })).toBe(1);
    expect(sampleValue(after, 'warden_integration_errors_total', { name: 'goauth-1' })).toBe(0);
    expect(sampleValue(after, 'warden_password_hash_in_flight')).toBe(0);
    expect(sampleValue(after, 'warden_password_hash_refused_total')).toBe(0);
    expect(hasFamily(after, 'warden_mfa_verifications_total')).toBe(false);
    expect(sampleValue(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(hasFamily(after, 'nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('counts second-factor outcomes by method', async () => {
    const { secret } = await createToken(t, admin);
    await t.createUser({ username: 'mia', role: 'operator' });
    const { secret: totp, recoveryCodes } = await enrolTotp(t, await t.login('mia'));
    const before = await scrape(t, secret);
    const step = async (payload: object) =>
      t.call('POST', '/api/v1/auth/mfa', { cookie: await t.login('mia'), payload });
    // A code ten steps ahead is outside the accepted window: a wrong code.
    expect((await step({ code: totpCode(totp, t.clock.now(), 10) })).statusCode).toBe(401);
    expect((await step({ code: totpCode(totp, t.clock.now()) })).statusCode).toBe(200);
    expect((await step({ recoveryCode: recoveryCodes[0] })).statusCode).toBe(200);
    const after = await scrape(t, secret);
    const delta = (labels: Record<string, string>) =>
      sampleValue(after, 'warden_mfa_verifications_total', labels) -
      sampleValue(before, 'warden_mfa_verifications_total', labels);
    expect(delta({ outcome: 'failure', method: 'totp' })).toBe(1);
    expect(delta({ outcome: 'success', method: 'totp' })).toBe(1);
    expect(delta({ outcome: 'success', method: 'recovery_code' })).toBe(1);
  });

  it('refuses a scrape without a live token with one and the same 401', async () => {
    const kept = await createToken(t, admin, { name: 'kept' });
    const deleted = await createToken(t, admin, { name: 'deleted' });
    const expiring = await createToken(t, admin, {
      name: 'expiring',
      expiresAt: new Date(t.clock.now() + 3_600_000).toISOString(),
    });
    expect((await scrapeWith(t, `Bearer ${deleted.secret}`)).statusCode).toBe(200);
    expect((await scrapeWith(t, `Bearer ${expiring.secret}`)).statusCode).toBe(200);
    expect(
      (await t.call('DELETE', `/api/v1/scrape-tokens/${deleted.id}`, { cookie: admin })).statusCode,
    ).toBe(204);
    t.clock.advance(2 * 3_600_000);

    const wrongSecret = `${kept.secret.slice(0, kept.secret.lastIndexOf('_') + 1)}${'x'.repeat(24)}`;
    const refusals = await Promise.all(
      [
        undefined,
        'Bearer ',
        'Bearer nonsense',
        `Bearer ${deleted.secret}`,
        `Bearer ${expiring.secret}`,
        `Bearer ${wrongSecret}`,
        `Basic ${Buffer.from(`x:${kept.secret}`).toString('base64')}`,
      ].map((header) => scrapeWith(t, header)),
    );
    const first = refusalOf(refusals[0] as LightMyRequestResponse);
    expect(first).toMatchObject({ status: 401, code: 'auth.required' });
    for (const response of refusals) expect(refusalOf(response)).toEqual(first);
    expect((await scrapeWith(t, `Bearer ${kept.secret}`)).statusCode).toBe(200);
    // The admin's session idled out meanwhile.
    const cookie = await t.login('admin', ROOT_PASSWORD);
    const list = (await t.call('GET', '/api/v1/scrape-tokens', { cookie })).json();
    expect(list.items.map((item: { name: string; expired: boolean }) => [item.name, item.expired])).toEqual([
      ['expiring', true],
      ['kept', false],
    ]);
  });

  it('shows the secret only in the answer to the create: never in the list, the audit log or the table', async () => {
    const created = await t.call('POST', '/api/v1/scrape-tokens', {
      cookie: admin,
      payload: { name: 'prom-1', description: 'central Prometheus' },
    });
    expect(created.statusCode).toBe(201);
    const { token, secret } = created.json() as { token: { id: string }; secret: string };
    expect(secret).toMatch(new RegExp(`^wdm_${token.id}_.{24}$`));
    const secretPart = secret.slice(`wdm_${token.id}_`.length);
    const list = await t.call('GET', '/api/v1/scrape-tokens', { cookie: admin });
    expect(list.json()).toMatchObject({
      total: 1,
      items: [{ id: token.id, name: 'prom-1', createdBy: 'user:admin', lastUsedAt: null, expiresAt: null }],
    });
    await scrapeWith(t, `Bearer ${secret}`);
    const used = (await t.call('GET', '/api/v1/scrape-tokens', { cookie: admin })).json();
    expect(used.items[0].lastUsedAt).toBe(new Date(t.clock.now()).toISOString());
    await t.call('DELETE', `/api/v1/scrape-tokens/${token.id}`, { cookie: admin });
    const audit = await t.call('GET', '/api/v1/audit?pageSize=250', { cookie: admin });
    const actions = (audit.json().items as Array<{ action: string }>).map((event) => event.action);
    expect(actions).toEqual(expect.arrayContaining(['scrape_token.create', 'scrape_token.delete']));
    for (const body of [list.body, JSON.stringify(used), audit.body]) expect(body).not.toContain(secretPart);
    const rows = await t.database.db.selectFrom('scrape_tokens').selectAll().execute();
    expect(rows).toEqual([]);
  });

  it('stores the keyed hash only, refuses a taken name, a past expiry and an unknown id', async () => {
    const { id, secret } = await createToken(t, admin, { name: 'prom' });
    const row = await t.database.db
      .selectFrom('scrape_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.secret_hash).toMatch(/^\$warden-hmac-sha256\$/);
    expect(JSON.stringify(row)).not.toContain(secret.slice(-24));
    const taken = await t.call('POST', '/api/v1/scrape-tokens', { cookie: admin, payload: { name: 'prom' } });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('scrape_token.exists');
    const past = await t.call('POST', '/api/v1/scrape-tokens', {
      cookie: admin,
      payload: { name: 'late', expiresAt: new Date(t.clock.now() - 1000).toISOString() },
    });
    expect(past.statusCode).toBe(400);
    expect(past.json().code).toBe('scrape_token.invalid_expiry');
    const unknown = await t.call('DELETE', '/api/v1/scrape-tokens/0123456789abcdef', { cookie: admin });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('scrape_token.not_found');
  });

  it('scrape tokens need system_config: operators and viewers are refused', async () => {
    const { id } = await createToken(t, admin);
    await t.createUser({ username: 'olga', role: 'operator' });
    await t.createUser({ username: 'vic', role: 'viewer' });
    for (const username of ['olga', 'vic']) {
      const cookie = await t.login(username);
      const refused = [
        await t.call('GET', '/api/v1/scrape-tokens', { cookie }),
        await t.call('POST', '/api/v1/scrape-tokens', { cookie, payload: { name: `mine-${username}` } }),
        await t.call('DELETE', `/api/v1/scrape-tokens/${id}`, { cookie }),
      ];
      for (const response of refused) {
        expect(response.statusCode).toBe(403);
        expect(response.json().code).toBe('auth.forbidden');
      }
    }
    expect((await t.services.scrapeTokens.list()).total).toBe(1);
  });
});

describe('password-hash pool', () => {
  let t: TestContext;
  beforeEach(async () => {
    // One argon2 slot and no queue: concurrent logins beyond the first are refused with 503 server.busy.
    t = await createTestContext({
      realHash: true,
      hasher: { concurrency: 1, maxQueue: 0 },
      app: { metricsAllowFrom: ['127.0.0.1'] },
    });
  });
  afterEach(() => t.close());

  it('counts every verification refused as busy, and nothing in flight once they are done', async () => {
    await t.createUser({ username: 'alice', role: 'operator' });
    const logins = await Promise.all(
      Array.from({ length: 6 }, () =>
        t.call('POST', '/api/v1/auth/login', { payload: { username: 'alice', password: STRONG_PASSWORD } }),
      ),
    );
    const busy = logins.filter((response) => response.statusCode === 503).length;
    const samples = parseExposition((await scrapeWith(t)).body);
    expect(sampleValue(samples, 'warden_password_hash_refused_total')).toBe(busy);
    expect(sampleValue(samples, 'warden_password_hash_in_flight')).toBe(0);
    expect(sampleValue(samples, 'warden_password_hash_queued')).toBe(0);
  });
});

describe('request logging of machine routes', () => {
  let t: TestContext;
  const lines: Array<{ level: number; msg: string; req?: { url?: string }; res?: unknown }> = [];
  beforeEach(async () => {
    lines.length = 0;
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    t = await createTestContext({
      app: { logger: pino({ level: 'debug' }, sink), metricsAllowFrom: ['127.0.0.1'] },
    });
  });
  afterEach(() => t.close());

  it('logs hook and scrape requests at debug, every other request at info', async () => {
    await t.call('GET', '/healthz');
    await t.call('GET', '/metrics');
    await t.call('POST', '/api/v1/hooks/go-auth/user', {
      payload: { username: 'nobody', password: 'x', clientid: 'c' },
    });
    const levels = (msg: string) => lines.filter((line) => line.msg === msg).map((line) => line.level);
    // pino: 20 = debug, 30 = info. The health check first, then the scrape and the hook.
    expect(levels('incoming request')).toEqual([30, 20, 20]);
    expect(levels('request completed')).toEqual([30, 20, 20]);
  });
});

describe('WARDEN_METRICS_ALLOW_FROM', () => {
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext({ app: { metricsAllowFrom: ['10.1.0.0/16', '2001:db8::/32'] } });
  });
  afterEach(() => t.close());

  it('admits the listed networks without a token, IPv4 and IPv6; others need one', async () => {
    expect((await scrapeWith(t, undefined, '10.1.2.3')).statusCode).toBe(200);
    expect((await scrapeWith(t, undefined, '2001:db8::5')).statusCode).toBe(200);
    expect((await scrapeWith(t, undefined, '10.2.0.1')).statusCode).toBe(401);
    expect((await scrapeWith(t, undefined, '127.0.0.1')).statusCode).toBe(401);
  });
});
