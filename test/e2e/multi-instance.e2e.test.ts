import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../../src/db/migrations/index.js';
import { postgresUrl } from '../helpers/databases.js';
import { STRONG_PASSWORD } from '../helpers/test-app.js';
import {
  ADMIN_PASSWORD,
  api,
  type Cluster,
  createCluster,
  type Instance,
  login,
  until,
} from '../helpers/warden-cluster.js';

/**
 * Three `warden serve` processes on one PostgreSQL schema (docs/deployment.md): one first start between them,
 * sessions, permissions, deactivations and the throttle budget shared through the database and the change feed,
 * each instance ready for a load balancer.
 */

const url = postgresUrl();

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) resolve();
    else client.once('close', () => resolve());
  });
}

/** The CONNACK return code of a refused MQTT 3.1.1 CONNECT (throws if the broker accepts it). */
async function refusal(mqttUrl: string, username: string, password: string): Promise<number> {
  const outcome = await mqtt
    .connectAsync(mqttUrl, {
      username,
      password,
      clientId: `refused-${username}-${Date.now()}`,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    })
    .then(
      (client) => {
        client.end(true);
        return null;
      },
      (error: unknown) => error as { code?: number },
    );
  if (outcome === null) throw new Error(`${username} was let in`);
  return outcome.code ?? -1;
}

describe.skipIf(url === null)('several Warden instances on one PostgreSQL schema (real processes)', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  let c: Instance;
  let root: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    cluster = await createCluster(url as string);
    // All at once on an empty schema: the first start (migrations, root user) races between them.
    const started = await Promise.all(
      ['warden-a', 'warden-b', 'warden-c'].map((name) => cluster.start(name)),
    );
    [a, b, c] = started as [Instance, Instance, Instance];
    root = await login(a.url, 'admin', ADMIN_PASSWORD);
  }, 240_000);

  afterAll(async () => {
    for (const client of clients) client.end(true);
    await cluster?.destroy();
  }, 60_000);

  it('starting them all at once on an empty schema migrates once and creates the root user once', async () => {
    const migrations = Object.keys(await migrationProvider.getMigrations());
    const applied = await cluster.query<{ name: string }>('select name from kysely_migration order by name');
    expect(applied.map((row) => row.name)).toEqual([...migrations].sort());
    const admins = await cluster.query<{ n: string }>(
      "select count(*) as n from users where username_lower = 'admin'",
    );
    expect(Number(admins[0]?.n)).toBe(1);
    const created = await cluster.query<{ n: string }>(
      "select count(*) as n from audit_events where action = 'user.create' and outcome = 'success'",
    );
    expect(Number(created[0]?.n)).toBe(1);
    const banners = [a, b, c].filter((p) =>
      p.output().includes('First start: root user "admin" created with WARDEN_ADMIN_PASSWORD.'),
    );
    expect(banners).toHaveLength(1);
    expect([a, b, c].filter((p) => p.output().includes('Log in as an existing admin'))).toHaveLength(2);
  });

  it('every instance answers /readyz with 200 while it follows the change feed', async () => {
    for (const instance of [a, b, c]) {
      const ready = await api(instance.url, 'GET', '/readyz');
      expect(ready.status, `${instance.instance}: ${JSON.stringify(ready.body)}`).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ready', changeFeed: { following: true } });
    }
  });

  it('a session made on one instance is valid on the others (the same cookie)', async () => {
    const cookie = await login(a.url, 'admin', ADMIN_PASSWORD);
    for (const instance of [a, b, c]) {
      const me = await api(instance.url, 'GET', '/api/v1/me', { cookie });
      expect(me.status, instance.instance).toBe(200);
      expect(me.body).toMatchObject({ user: { username: 'admin' }, next: null });
    }
    // Ending it on one instance ends it everywhere.
    expect((await api(b.url, 'POST', '/api/v1/auth/logout', { cookie })).status).toBeLessThan(300);
    for (const instance of [a, b, c]) {
      expect((await api(instance.url, 'GET', '/api/v1/me', { cookie })).status, instance.instance).toBe(401);
    }
  });

  it("a scope removed on one instance applies to the user's very next request on another", async () => {
    const created = await api(a.url, 'POST', '/api/v1/users', {
      cookie: root,
      body: { username: 'auditor', password: STRONG_PASSWORD, role: 'operator' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const auditor = await login(c.url, 'auditor', STRONG_PASSWORD);
    expect((await api(b.url, 'GET', '/api/v1/audit', { cookie: auditor })).status).toBe(200);
    const demoted = await api(a.url, 'PATCH', '/api/v1/users/auditor', {
      cookie: root,
      body: { scopes: ['asset_management'] },
    });
    expect(demoted.status, JSON.stringify(demoted.body)).toBe(200);
    // No waiting: B reads the permissions of every request from the database.
    const refused = await api(b.url, 'GET', '/api/v1/audit', { cookie: auditor });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ denial: { reason: 'scope' } });
  });

  it("a deactivation on one instance disconnects the user's MQTT client on another and refuses it there", async () => {
    const created = await api(a.url, 'POST', '/api/v1/users', {
      cookie: root,
      body: { username: 'sensor-1', password: STRONG_PASSWORD, role: 'viewer', kind: 'device' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const client = await mqtt.connectAsync(b.mqttUrl, {
      username: 'sensor-1',
      password: STRONG_PASSWORD,
      clientId: 'sensor-1',
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    clients.push(client);
    const gone = closed(client);
    const start = performance.now();
    const deactivated = await api(a.url, 'POST', '/api/v1/users/sensor-1/deactivate', { cookie: root });
    expect(deactivated.status, JSON.stringify(deactivated.body)).toBe(200);
    const answered = performance.now();
    await gone;
    const disconnected = performance.now();
    console.log(
      `[multi-instance] deactivation on ${a.instance} → MQTT client on ${b.instance} disconnected ` +
        `${(disconnected - start).toFixed(0)} ms after the request was sent ` +
        `(${(disconnected - answered).toFixed(0)} ms after A answered)`,
    );
    // docs/mqtt.md: a deactivated user is refused like a wrong password, CONNACK 4, on every instance.
    expect(await refusal(b.mqttUrl, 'sensor-1', STRONG_PASSWORD)).toBe(4);
    expect(await refusal(c.mqttUrl, 'sensor-1', STRONG_PASSWORD)).toBe(4);
  });

  it('every instance applies every change of the feed', async () => {
    const newest = await cluster.query<{ id: string }>('select max(id) as id from change_feed');
    const id = Number(newest[0]?.id);
    expect(id).toBeGreaterThan(0);
    for (const instance of [a, b, c]) {
      await until(async () => {
        const ready = await api(instance.url, 'GET', '/readyz');
        expect(ready.status).toBe(200);
        expect((ready.body as { changeFeed: { lastId: number } }).changeFeed.lastId).toBeGreaterThanOrEqual(
          id,
        );
      });
    }
  });

  it('the throttle budget is shared: failures spread over the instances add up', async () => {
    // The per-account budget also slows each failure after the third down (docs/authentication.md), so a
    // fast test spends the per-address budget instead: one wrong password each for ten names, half on A, half
    // on B, all from 127.0.0.1. The refused MQTT logins above already count against that address: the budget
    // is set to what they spent plus ten.
    const spent = await cluster.query<{ attempts: number }>(
      "select attempts from login_throttle where key = 'ip:127.0.0.1'",
    );
    const settings = await api(a.url, 'GET', '/api/v1/settings/security', { cookie: root });
    expect(settings.status).toBe(200);
    const security = settings.body as { throttle: Record<string, number> };
    const put = (maxAttemptsPerIp: number) =>
      api(a.url, 'PUT', '/api/v1/settings/security', {
        cookie: root,
        body: { ...security, throttle: { ...security.throttle, maxAttemptsPerIp } },
      });
    expect((await put(Number(spent[0]?.attempts ?? 0) + 10)).status).toBe(200);
    try {
      for (let i = 0; i < 10; i++) {
        const instance = i % 2 === 0 ? a : b;
        const failed = await api(instance.url, 'POST', '/api/v1/auth/login', {
          body: { username: `guess-${i}`, password: 'Wr0ng-Passw0rd!' },
        });
        expect(failed.status, `attempt ${i + 1} on ${instance.instance}`).toBe(401);
      }
      for (const instance of [a, b, c]) {
        const eleventh = await api(instance.url, 'POST', '/api/v1/auth/login', {
          body: { username: 'guess-11', password: 'Wr0ng-Passw0rd!' },
        });
        expect(eleventh.status, instance.instance).toBe(429);
        expect(eleventh.body).toMatchObject({ code: 'auth.throttled' });
        expect(eleventh.headers.get('retry-after')).toMatch(/^\d+$/);
      }
    } finally {
      expect((await put(security.throttle.maxAttemptsPerIp as number)).status).toBe(200);
    }
  });
});
