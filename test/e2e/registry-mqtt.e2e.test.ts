import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DomainEventBus } from '../../src/core/events.js';
import type { EmbeddedBroker } from '../../src/integrations/aedes/embedded-broker.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { createServices } from '../../src/services.js';
import { startLocalBroker } from '../helpers/local-broker.js';
import { inbox, type Received, subackCodes } from '../helpers/mqtt-inbox.js';
import { deviceCall, register } from '../helpers/registry.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

/** Waits for something the broker does asynchronously; never asserts on time. */
const until = (condition: () => void | Promise<void>): Promise<void> =>
  vi.waitFor(condition, { timeout: 5_000, interval: 5 });

const run = promisify(execFile);

const request = (clientId: string): string => `$warden/registry/${clientId}/request`;
const response = (clientId: string): string => `$warden/registry/${clientId}/response`;

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) resolve();
    else client.once('close', () => resolve());
  });
}

describe('client registry over MQTT on the embedded broker (real mqtt.js clients)', () => {
  let t: TestContext;
  let broker: EmbeddedBroker;
  let root: string;
  const open: MqttClient[] = [];

  async function connect(
    username: string,
    password: string,
    options: IClientOptions = {},
  ): Promise<MqttClient> {
    const client = await mqtt.connectAsync(broker.url as string, {
      username,
      password,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      protocolVersion: 4,
      ...options,
    });
    open.push(client);
    return client;
  }

  const brokerPort = (): number => broker.port as number;

  /** The CONNACK return code of a refused CONNECT (throws when it was accepted). */
  async function refusal(username: string, password: string, options: IClientOptions = {}): Promise<number> {
    const error = await connect(username, password, options).then(
      () => null,
      (e: unknown) => e as { code?: number },
    );
    if (error === null) throw new Error('connection was accepted');
    return error.code ?? -1;
  }

  /** A registration connection of `clientId`, subscribed to its response topic, with its inbox. */
  async function registrant(
    clientId: string,
    password = '',
  ): Promise<{ client: MqttClient; messages: Received[]; answers: () => Array<Record<string, unknown>> }> {
    const client = await connect('$registry', password, { clientId });
    const messages = inbox(client);
    expect(await subackCodes(client, response(clientId), 1)).toEqual([1]);
    return {
      client,
      messages,
      answers: () => messages.map((m) => JSON.parse(m.payload) as Record<string, unknown>),
    };
  }

  const unlock = async (): Promise<void> => {
    const res = await t.call('POST', '/api/v1/registry/unlock', { cookie: root, payload: { minutes: 60 } });
    expect(res.statusCode).toBe(200);
  };
  const lock = async (): Promise<void> => {
    expect((await t.call('POST', '/api/v1/registry/lock', { cookie: root })).statusCode).toBe(200);
  };
  const approve = async (id: string, accessRoles?: string[]): Promise<void> => {
    const res = await t.call('POST', `/api/v1/registry/requests/${id}/approve`, {
      cookie: root,
      payload: accessRoles ? { accessRoles } : {},
    });
    expect(res.statusCode, res.body).toBe(200);
  };

  beforeAll(async () => {
    t = await createTestContext();
    root = await t.login('admin', ROOT_PASSWORD);
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'sensor',
      rules: [{ permission: 'allow', action: 'publish', topic: 'dt/${username}/up' }],
    });
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'everything',
      rules: [
        { permission: 'allow', action: 'all', topic: '$warden/#' },
        { permission: 'allow', action: 'all', topic: '#' },
      ],
    });
    await t.createUser({ username: 'watcher', kind: 'service', accessRoles: ['everything'] });
    broker = await startLocalBroker(t.services);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.endAsync(true)));
  });

  afterAll(async () => {
    await broker.close();
    await t.close();
  });

  it('takes a request over MQTT, and delivers the answer with the credentials exactly once after approval', async () => {
    await unlock();
    const device = await registrant('plc-m1');
    await device.client.publishAsync(
      request('plc-m1'),
      JSON.stringify({ username: 'plc-m1', metadata: { fw: '2' } }),
      {
        qos: 1,
      },
    );
    await until(() => expect(device.answers()).toHaveLength(1));
    const [ack] = device.answers();
    expect(ack).toMatchObject({ status: 'pending', requestId: expect.any(String) });
    expect(ack?.pollSecret).toMatch(/^wdp_/);
    const requestId = ack?.requestId as string;
    const seen = (await t.call('GET', `/api/v1/registry/requests/${requestId}`, { cookie: root })).json();
    expect(seen).toMatchObject({
      username: 'plc-m1',
      clientId: 'plc-m1',
      source: 'mqtt',
      metadata: { fw: '2' },
    });

    await approve(requestId, ['sensor']);
    await until(() => expect(device.answers()).toHaveLength(2));
    const answer = device.answers()[1] as {
      status: string;
      credentials: { username: string; password: string };
    };
    expect(answer).toMatchObject({ requestId, status: 'approved', credentialsDelivered: false });
    expect(answer.credentials.username).toBe('plc-m1');
    expect(device.messages.every((m) => m.topic === response('plc-m1') && !m.retain)).toBe(true);

    // Once: a REST poll with the request's poll secret learns they were delivered; nothing more arrives.
    const polled = await deviceCall(t, 'GET', `/api/v1/registry/requests/${requestId}`, {
      pollSecret: ack?.pollSecret as string,
    });
    expect(polled.json()).toMatchObject({ status: 'approved', credentialsDelivered: true });
    expect(polled.json().credentials).toBeUndefined();
    const events = await t.services.audit.list({ action: 'registry.credentials_delivered' }, 1, 25);
    expect(events.items.filter((e) => e.target === `registry_request:${requestId}`)).toHaveLength(1);
    expect(events.items[0]?.details).toMatchObject({ via: 'mqtt', kind: 'password' });

    // The device then connects as itself, with what its access role allows.
    const itself = await connect('plc-m1', answer.credentials.password, { clientId: 'plc-m1' });
    const watcher = await connect('watcher', STRONG_PASSWORD);
    const seenByWatcher = inbox(watcher);
    await subackCodes(watcher, 'dt/#', 1);
    await itself.publishAsync('dt/plc-m1/up', '21.5', { qos: 1 });
    await until(() => expect(seenByWatcher.map((m) => m.payload)).toEqual(['21.5']));
    expect(device.answers()).toHaveLength(2);
  });

  it('an approved device without access roles connects with its password, and every publish and subscribe is refused', async () => {
    await unlock();
    const { requestId, pollSecret } = await register(t, { username: 'plc-bare' });
    await approve(requestId);
    const delivered = await deviceCall(t, 'GET', `/api/v1/registry/requests/${requestId}`, { pollSecret });
    const password = delivered.json().credentials.password as string;
    const device = await connect('plc-bare', password, { clientId: 'plc-bare' });
    expect(device.connected).toBe(true);
    expect(await subackCodes(device, ['#', 'dt/plc-bare/#', '$SYS/#', response('plc-bare')], 1)).toEqual([
      128, 128, 128, 128,
    ]);
    const watcher = await connect('watcher', STRONG_PASSWORD);
    const seen = inbox(watcher);
    await subackCodes(watcher, '#', 1);
    const refusedBefore = broker.deniedPublishes();
    await device.publishAsync('dt/plc-bare/up', 'denied', { qos: 1 });
    await device.publishAsync('anything', 'denied', { qos: 0 });
    await until(() => expect(broker.deniedPublishes()).toBe(refusedBefore + 2));
    // Delivered in order: once the marker is in, a leaked message would be too.
    await watcher.publishAsync('marker', 'marker', { qos: 1 });
    await until(() => expect(seen.map((m) => m.payload)).toEqual(['marker']));
  });

  it('refuses the registration identity everything but its own request and response topics', async () => {
    await unlock();
    const { client, messages } = await registrant('plc-m2');
    expect(
      await subackCodes(client, [
        response('other'),
        '$warden/registry/#',
        '$warden/registry/+/response',
        'x/y',
        '#',
      ]),
    ).toEqual([128, 128, 128, 128, 128]);

    for (const [topic, options] of [
      [request('other'), { qos: 1 }],
      ['dt/plc-m2/up', { qos: 0 }],
      [request('plc-m2'), { qos: 1, retain: true }],
      [request('plc-m2'), { qos: 2 }],
      [response('plc-m2'), { qos: 1 }],
    ] as const) {
      const sender = await connect('$registry', '', { clientId: 'plc-m3' });
      const gone = closed(sender);
      sender.publish(topic, '{"username":"plc-m3"}', options);
      await gone;
    }
    expect(
      await refusal('$registry', '', {
        clientId: 'plc-m4',
        will: { topic: request('plc-m4'), payload: Buffer.from('{}'), qos: 0, retain: false },
      }),
    ).toBe(5);
    expect(await refusal('$registry', '', { clientId: 'plc-m4', clean: false })).toBe(5);
    expect(await refusal('$registry', '', { clientId: 'with space' })).toBe(2);
    expect(await refusal('$registry', 'a password', { clientId: 'plc-m4' })).toBe(4);
    expect(messages).toEqual([]);
    const pending = (
      await t.call('GET', '/api/v1/registry/requests?status=pending', { cookie: root })
    ).json();
    expect(pending.items.map((r: { username: string }) => r.username)).not.toContain('plc-m3');
  });

  it('keeps $warden/registry/ to the registration connections, whatever other users’ rules allow', async () => {
    const watcher = await connect('watcher', STRONG_PASSWORD);
    expect(
      await subackCodes(watcher, ['$warden/registry/+/response', '$warden/#', '$warden/other'], 1),
    ).toEqual([128, 128, 1]);
    const gone = closed(watcher);
    watcher.publish(response('plc-m1'), '{"status":"approved","credentials":{"password":"forged"}}', {
      qos: 1,
    });
    await gone;
  });

  it('refuses the registration CONNECT while locked; an enrolment token as password opens it', async () => {
    await lock();
    expect(await refusal('$registry', '', { clientId: 'plc-t1' })).toBe(5);
    const created = await t.call('POST', '/api/v1/registry/tokens', { cookie: root, payload: { uses: 1 } });
    const token = created.json().secret as string;
    const device = await registrant('plc-t1', token);
    // The token it connected with is used for the request.
    await device.client.publishAsync(request('plc-t1'), JSON.stringify({ username: 'plc-t1' }), { qos: 1 });
    await until(() => expect(device.answers()).toHaveLength(1));
    expect(device.answers()[0]).toMatchObject({ status: 'pending' });
    // Used up: refused at CONNECT, and a request naming it is refused with the registry's code.
    expect(await refusal('$registry', token, { clientId: 'plc-t2' })).toBe(5);
    await device.client.publishAsync(request('plc-t1'), JSON.stringify({ username: 'plc-t3' }), { qos: 1 });
    await until(() => expect(device.answers()).toHaveLength(2));
    expect(device.answers()[1]).toMatchObject({ status: 'refused', code: 'registry.token_invalid' });
  });

  it('answers a device that comes back later with its poll secret as password; a wrong one gets CONNACK 4', async () => {
    await unlock();
    const first = await registrant('plc-p1');
    await first.client.publishAsync(request('plc-p1'), JSON.stringify({ username: 'plc-p1' }), { qos: 1 });
    await until(() => expect(first.answers()).toHaveLength(1));
    const { requestId, pollSecret } = first.answers()[0] as { requestId: string; pollSecret: string };
    await first.client.endAsync();
    await lock();

    await approve(requestId);
    expect(await refusal('$registry', `wdp_${requestId}_${'x'.repeat(43)}`, { clientId: 'plc-p1' })).toBe(4);
    // The poll secret belongs to client id plc-p1 only.
    expect(await refusal('$registry', pollSecret, { clientId: 'plc-p2' })).toBe(4);
    const again = await registrant('plc-p1', pollSecret);
    await until(() => expect(again.answers()).toHaveLength(1));
    expect(again.answers()[0]).toMatchObject({ requestId, status: 'approved', credentialsDelivered: false });
    expect((again.answers()[0] as { credentials: { password: string } }).credentials.password).toEqual(
      expect.any(String),
    );
    // A third connection learns they were delivered.
    await again.client.endAsync();
    const third = await registrant('plc-p1', pollSecret);
    await until(() => expect(third.answers()).toHaveLength(1));
    expect(third.answers()[0]).toMatchObject({ status: 'approved', credentialsDelivered: true });
    expect(third.answers()[0]?.credentials).toBeUndefined();
  });

  it('answers a connection only while it is subscribed: a decision made while it was not arrives at its SUBACK', async () => {
    await unlock();
    const device = await registrant('plc-u1');
    await device.client.publishAsync(request('plc-u1'), JSON.stringify({ username: 'plc-u1' }), { qos: 1 });
    await until(() => expect(device.answers()).toHaveLength(1));
    const { requestId } = device.answers()[0] as { requestId: string };
    await device.client.unsubscribeAsync(response('plc-u1'));
    await approve(requestId);
    // Nothing is claimed for a connection that does not listen.
    const row = (await t.call('GET', `/api/v1/registry/requests/${requestId}`, { cookie: root })).json();
    expect(row).toMatchObject({ status: 'approved', credentialsDelivered: false });
    expect(device.answers()).toHaveLength(1);
    expect(await subackCodes(device.client, response('plc-u1'), 1)).toEqual([1]);
    await until(() => expect(device.answers()).toHaveLength(2));
    expect(device.answers()[1]).toMatchObject({ status: 'approved', credentials: { username: 'plc-u1' } });
  });

  it('works with mosquitto_rr and mosquitto_sub as docs/registry.md shows', async () => {
    await unlock();
    const at = ['-V', 'mqttv311', '-h', '127.0.0.1', '-p', String(brokerPort()), '-i', 'plc-0042', '-q', '1'];
    const asked = await run('mosquitto_rr', [
      ...at,
      '-u',
      '$registry',
      '-t',
      request('plc-0042'),
      '-e',
      response('plc-0042'),
      '-W',
      '10',
      '-m',
      JSON.stringify({ username: 'plc-0042', metadata: { model: 'X1' } }),
    ]);
    const ack = JSON.parse(asked.stdout) as { requestId: string; pollSecret: string; status: string };
    expect(ack.status).toBe('pending');
    const waiting = run('mosquitto_sub', [
      ...at,
      '-u',
      '$registry',
      '-P',
      ack.pollSecret,
      '-t',
      response('plc-0042'),
      '-C',
      '1',
      '-W',
      '10',
    ]);
    await approve(ack.requestId, ['sensor']);
    const answer = JSON.parse((await waiting).stdout) as {
      credentials: { username: string; password: string };
    };
    expect(answer).toMatchObject({ status: 'approved', credentialsDelivered: false });
    const watcher = await connect('watcher', STRONG_PASSWORD);
    const seen = inbox(watcher);
    await subackCodes(watcher, 'dt/#', 1);
    await run('mosquitto_pub', [
      ...at,
      '-u',
      answer.credentials.username,
      '-P',
      answer.credentials.password,
      '-t',
      'dt/plc-0042/up',
      '-m',
      '21.5',
    ]);
    await until(() => expect(seen.map((m) => m.payload)).toEqual(['21.5']));
  });

  it('tells a waiting device of a rejection decided by another instance (through the change feed)', async () => {
    await unlock();
    const device = await registrant('plc-x1');
    await device.client.publishAsync(request('plc-x1'), JSON.stringify({ username: 'plc-x1' }), { qos: 1 });
    await until(() => expect(device.answers()).toHaveLength(1));
    const { requestId } = device.answers()[0] as { requestId: string };
    // Another instance: its own services and event bus on the same database; the decision reaches this one's
    // broker only through the change feed.
    const other = createServices({ ...t.services.infra, events: new DomainEventBus() });
    await other.registry.reject(CLI_CONTEXT, requestId, { reason: 'not ours' });
    await until(() => expect(device.answers()).toHaveLength(2));
    expect(device.answers()[1]).toMatchObject({ requestId, status: 'rejected', reason: 'not ours' });
  });
});
