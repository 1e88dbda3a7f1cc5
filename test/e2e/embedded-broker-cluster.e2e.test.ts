import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import pino, { type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { PasswordHasher } from '../../src/core/crypto/password-hasher.js';
import { DomainEventBus } from '../../src/core/events.js';
import { openDatabase } from '../../src/db/database.js';
import {
  type BrokerClusterOptions,
  type EmbeddedBroker,
  startEmbeddedBroker,
} from '../../src/integrations/aedes/embedded-broker.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { startServer } from '../../src/server.js';
import { createServices, type Services, startServices } from '../../src/services.js';
import { postgresUrl } from '../helpers/databases.js';
import { inbox, subackCodes } from '../helpers/mqtt-inbox.js';
import {
  connectionNames,
  deleteKeys,
  redisClient,
  redisUrl,
  tcpProxy,
  uniquePrefix,
} from '../helpers/redis.js';
import { createTestContext, FAST_HASH, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

const REDIS = await redisUrl();

/** Waits for what the brokers reach asynchronously (a delivery across instances); never asserts on time. */
const until = (condition: () => void | Promise<void>): Promise<void> =>
  vi.waitFor(condition, { timeout: 15_000, interval: 10 });

/**
 * Publishes and returns once the message has gone all the way through the broker — stored if retained, queued for
 * offline sessions, handed to the emitter — because `client`, subscribed to the topic, has it back. Its PUBACK
 * says less: aedes acknowledges a QoS 1 PUBLISH before publishing it, and may already handle the client's next
 * packet meanwhile.
 */
async function publishThrough(
  client: MqttClient,
  topic: string,
  payload: string,
  options: { qos: 0 | 1 | 2; retain?: boolean },
): Promise<void> {
  const back = new Promise<void>((resolve) => {
    const onMessage = (received: string, body: Buffer): void => {
      if (received !== topic || String(body) !== payload) return;
      client.off('message', onMessage);
      resolve();
    };
    client.on('message', onMessage);
  });
  await subackCodes(client, topic);
  await client.publishAsync(topic, payload, options);
  await back;
}

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) resolve();
    else client.once('close', () => resolve());
  });
}

/** A logger whose entries the test can read (pino's JSON lines, parsed). */
function recordingLogger(): {
  logger: Logger;
  entries: Array<{ level: number; msg: string; role?: string }>;
} {
  const entries: Array<{ level: number; msg: string; role?: string }> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) entries.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), entries };
}

const silent = pino({ level: 'silent' });

/**
 * The services of a second Warden instance on the same database: its own access cache, credential cache and
 * connection registry, as a second `warden serve` builds them — so a delivery decided on that instance is
 * decided by what that instance knows, not by state it shares with the first in this process.
 */
async function secondInstance(t: TestContext): Promise<{ services: Services; close(): Promise<void> }> {
  const handle = openDatabase(t.database.location);
  const services = createServices({
    db: handle.db,
    engine: handle.engine,
    clock: t.clock,
    hasher: new PasswordHasher({ params: FAST_HASH }),
    events: new DomainEventBus((error) => {
      throw error;
    }),
    secretKey: t.services.infra.secretKey,
    ...(handle.notifications ? { notifications: handle.notifications } : {}),
    ...(handle.locks ? { locks: handle.locks } : {}),
  });
  const stop = await startServices(services);
  return {
    services,
    close: async () => {
      await stop();
      await handle.close();
    },
  };
}

function startBroker(
  services: Services,
  cluster: BrokerClusterOptions | null,
  options: { logger?: Logger; heartbeatIntervalMs?: number } = {},
): Promise<EmbeddedBroker> {
  return startEmbeddedBroker({
    services,
    logger: options.logger ?? silent,
    host: '127.0.0.1',
    port: 0,
    tls: null,
    cluster,
    ...(options.heartbeatIntervalMs ? { heartbeatIntervalMs: options.heartbeatIntervalMs } : {}),
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Users and access roles of the suites, created through the first instance's services. */
async function seed(t: TestContext): Promise<void> {
  const { accessRoles } = t.services;
  await accessRoles.create(CLI_CONTEXT, {
    name: 'ops',
    rules: [{ permission: 'allow', action: 'all', topic: '#' }],
  });
  // Delivery decided per message: subscribing to alarms/# is allowed, receiving a QoS 1 message there is not.
  await accessRoles.create(CLI_CONTEXT, {
    name: 'qos0-alarms',
    rules: [
      { permission: 'allow', action: 'subscribe', topic: 'alarms/#', qos: [0] },
      { permission: 'allow', action: 'subscribe', topic: 'marker/#' },
    ],
  });
  await accessRoles.create(CLI_CONTEXT, {
    name: 'live-fleet',
    rules: [
      { permission: 'allow', action: 'subscribe', topic: 'fleet/#', retain: false },
      { permission: 'allow', action: 'subscribe', topic: 'marker/#' },
    ],
  });
  await accessRoles.create(CLI_CONTEXT, {
    name: 'queue-reader',
    rules: [{ permission: 'allow', action: 'subscribe', topic: 'q/#', qos: [0, 1] }],
  });
  await accessRoles.create(CLI_CONTEXT, {
    name: 'status-writer',
    rules: [{ permission: 'allow', action: 'publish', topic: 'status/${clientid}' }],
  });
  await t.createUser({ username: 'ops', kind: 'service', accessRoles: ['ops'] });
  await t.createUser({ username: 'narrow', kind: 'device', accessRoles: ['qos0-alarms'] });
  await t.createUser({ username: 'live-only', kind: 'device', accessRoles: ['live-fleet'] });
  await t.createUser({ username: 'sess', kind: 'device', accessRoles: ['queue-reader'] });
  await t.createUser({ username: 'plc', kind: 'device', accessRoles: ['status-writer'] });
  await t.createUser({ username: 'mute', kind: 'device', accessRoles: ['queue-reader'] });
}

/** MQTT clients of one suite, ended after each test. */
function clientPool(): {
  /** The client at once (listeners attached before the CONNACK see what follows it), and its CONNACK. */
  open(
    url: string,
    username: string,
    options?: IClientOptions,
  ): { client: MqttClient; connack: Promise<IConnackPacket> };
  connect(url: string, username: string, options?: IClientOptions): Promise<MqttClient>;
  endAll(): Promise<void>;
} {
  const clients: MqttClient[] = [];
  let next = 0;
  const open = (url: string, username: string, options: IClientOptions = {}) => {
    const client = mqtt.connect(url, {
      username,
      password: STRONG_PASSWORD,
      clientId: `c${next++}-${username}`,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      protocolVersion: 4,
      ...options,
    });
    clients.push(client);
    const connack = new Promise<IConnackPacket>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
      // A broker that cannot set up the session closes the connection without CONNACK (no 'error' then).
      client.once('close', () => reject(new Error('connection closed before CONNACK')));
    });
    return { client, connack };
  };
  return {
    open,
    async connect(url, username, options) {
      const { client, connack } = open(url, username, options);
      await connack;
      return client;
    },
    async endAll() {
      await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    },
  };
}

describe.skipIf(REDIS === null)(
  'two instances, one broker through Redis (real Redis, real mqtt.js clients)',
  () => {
    const redis = REDIS as string;
    const prefix = uniquePrefix();
    const cluster = { redisUrl: redis, prefix };
    let t: TestContext;
    let second: { services: Services; close(): Promise<void> };
    let a: EmbeddedBroker;
    let b: EmbeddedBroker;
    const pool = clientPool();
    const onA = (username: string, options?: IClientOptions) =>
      pool.connect(a.url as string, username, options);
    const onB = (username: string, options?: IClientOptions) =>
      pool.connect(b.url as string, username, options);

    beforeAll(async () => {
      // Several instances share PostgreSQL in production; SQLite (one file, two connections) when it is absent.
      t = await createTestContext({ engine: postgresUrl() ? 'postgres' : 'sqlite' });
      await seed(t);
      second = await secondInstance(t);
      a = await startBroker(t.services, cluster);
      b = await startBroker(second.services, cluster);
    });

    afterEach(() => pool.endAll());

    afterAll(async () => {
      await a?.close();
      await b?.close();
      await second?.close();
      await t?.close();
      await deleteKeys(redis, prefix);
    });

    it('a subscriber on B receives what is published on A; each delivery is decided on B by the subscriber’s rules', async () => {
      const wide = await onB('ops');
      const wideSeen = inbox(wide);
      expect(await subackCodes(wide, 'alarms/#')).toEqual([0]);
      const narrow = await onB('narrow');
      const narrowSeen = inbox(narrow);
      expect(await subackCodes(narrow, 'alarms/#')).toEqual([0]);

      const publisher = await onA('ops');
      // narrow may subscribe to alarms/#, but receive only what was published there with QoS 0.
      await publisher.publishAsync('alarms/boiler', 'qos 1: not for narrow', { qos: 1 });
      await until(() => expect(wideSeen.map((m) => m.payload)).toEqual(['qos 1: not for narrow']));
      // B decided both deliveries of that message before it reached wide; what narrow gets later was sent later.
      await publisher.publishAsync('alarms/boiler', 'qos 0: for everyone', { qos: 0 });
      await until(() =>
        expect(wideSeen.map((m) => m.payload)).toEqual(['qos 1: not for narrow', 'qos 0: for everyone']),
      );
      await until(() => expect(narrowSeen.map((m) => m.payload)).toEqual(['qos 0: for everyone']));

      // And the other way round, B to A.
      const onASide = await onA('ops');
      const aSeen = inbox(onASide);
      await subackCodes(onASide, 'alarms/#');
      await (await onB('ops')).publishAsync('alarms/pump', 'from B', { qos: 1 });
      await until(() => expect(aSeen.map((m) => m.payload)).toEqual(['from B']));
    });

    it('a user deactivated through A is disconnected on B, wherever it is connected, and refused on both', async () => {
      await t.services.users.create(CLI_CONTEXT, {
        username: 'roamer',
        password: STRONG_PASSWORD,
        role: 'viewer',
        kind: 'device',
        accessRoles: ['ops'],
      });
      const roamer = await onB('roamer');
      const closed = new Promise<void>((resolve) => roamer.once('close', () => resolve()));
      // The change is made through A's services; B learns of it from the change feed.
      await t.services.users.deactivate(CLI_CONTEXT, 'roamer');
      await closed;
      for (const url of [a.url, b.url]) {
        await expect(pool.connect(url as string, 'roamer')).rejects.toThrow();
      }
    });

    it('a retained message published on A is delivered to a new subscriber on B, through B’s delivery check', async () => {
      const publisher = await onA('ops');
      await publishThrough(publisher, 'fleet/line-1/state', 'running', { qos: 1, retain: true });
      await publishThrough(publisher, 'marker/retained', 'marker', { qos: 1, retain: true });

      const watcher = await onB('ops');
      const seen = inbox(watcher);
      expect(await subackCodes(watcher, 'fleet/#')).toEqual([0]);
      await until(() =>
        expect(seen).toEqual([{ topic: 'fleet/line-1/state', payload: 'running', retain: true }]),
      );

      // live-only may subscribe to fleet/# but receive only live messages there: the retained one is withheld on B.
      // Exact filters are answered from the store in the order asked, so the marker comes after it.
      const device = await onB('live-only');
      const deviceSeen = inbox(device);
      expect(await subackCodes(device, ['fleet/line-1/state', 'marker/retained'])).toEqual([0, 0]);
      await until(() => expect(deviceSeen.map((m) => m.topic)).toEqual(['marker/retained']));

      await publisher.publishAsync('fleet/line-1/state', '', { qos: 1, retain: true });
      await publisher.publishAsync('marker/retained', '', { qos: 1, retain: true });
    });

    it('a QoS 1 persistent session subscribed on A gets on B what was queued while it was offline, minus what it may not receive', async () => {
      const session = { clientId: 'sess-line-7', clean: false } as const;
      const first = await onA('sess', session);
      expect(await subackCodes(first, 'q/#', 1)).toEqual([1]);
      await first.endAsync();
      await until(() => expect(t.services.mqttConnections.ofUser('sess')).toEqual([]));

      const publisher = await onA('ops');
      await publishThrough(publisher, 'q/1', 'first', { qos: 1 });
      // queue-reader receives QoS 0 and 1 only: a QoS 2 message is queued, and withheld when the queue is delivered.
      await publishThrough(publisher, 'q/2', 'qos 2', { qos: 2 });
      await publishThrough(publisher, 'q/3', 'third', { qos: 1 });

      const { client: resumed, connack } = pool.open(b.url as string, 'sess', session);
      const seen = inbox(resumed);
      expect((await connack).sessionPresent).toBe(true);
      await until(() => expect(seen.map((m) => m.payload)).toEqual(['first', 'third']));
      // Still subscribed on B from the restored session: live messages follow.
      await publisher.publishAsync('q/4', 'live', { qos: 1 });
      await until(() => expect(seen.map((m) => m.payload)).toEqual(['first', 'third', 'live']));
      await resumed.endAsync();
      // A clean start ends the session (and its stored subscription) for good.
      await (await onB('sess', { clientId: session.clientId, clean: true })).endAsync();
    });

    it('filters holding Redis pattern characters ([ ] \\ * ?) receive what they match, across instances', async () => {
      const subscriber = await onB('ops');
      const seen = inbox(subscriber);
      expect(await subackCodes(subscriber, ['glob/[x]/+', 'glob/b\\c/#', 'glob/d*?/+', 'glob/[e]'])).toEqual([
        0, 0, 0, 0,
      ]);
      const publisher = await onA('ops');
      // Each filter matches the first topic of its pair, literally; the second is what its Redis pattern would match.
      for (const topic of [
        'glob/[x]/1',
        'glob/x/1',
        'glob/b\\c/1',
        'glob/bc/1',
        'glob/d*?/1',
        'glob/dd?/1',
        'glob/[e]',
        'glob/e',
      ])
        await publisher.publishAsync(topic, topic, { qos: 1 });
      await publisher.publishAsync('glob/[x]/marker', 'marker', { qos: 1 });
      await until(() =>
        expect(seen.map((m) => m.topic)).toEqual([
          'glob/[x]/1',
          'glob/b\\c/1',
          'glob/d*?/1',
          'glob/[e]',
          'glob/[x]/marker',
        ]),
      );
    });

    it('a client id connecting on B ends its connection on A (session takeover across instances)', async () => {
      const old = await onA('ops', { clientId: 'takeover-1' });
      const ended = closed(old);
      await onB('ops', { clientId: 'takeover-1' });
      await ended;
      await until(() => expect(t.services.mqttConnections.ofUser('ops')).toEqual([]));
    });
  },
);

describe.skipIf(REDIS === null)('the Redis connections of a clustered broker', () => {
  const redis = REDIS as string;
  /** Shorter than production's 5 s: how long a command waits for a Redis that went away. */
  const commandTimeoutMs = 500;
  let t: TestContext;
  const prefixes: string[] = [];
  const pool = clientPool();

  beforeAll(async () => {
    t = await createTestContext();
    await seed(t);
  });
  afterEach(() => pool.endAll());
  afterAll(async () => {
    await t?.close();
    for (const prefix of prefixes) await deleteKeys(redis, prefix);
  });
  const fresh = (): string => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    return prefix;
  };

  it('are three, named after the prefix, and closing the broker ends them', async () => {
    const prefix = fresh();
    const broker = await startBroker(t.services, { redisUrl: redis, prefix });
    expect(await connectionNames(redis, prefix)).toEqual([
      `${prefix}:mqtt-publish`,
      `${prefix}:mqtt-store`,
      `${prefix}:mqtt-subscribe`,
    ]);
    await pool.connect(broker.url as string, 'ops');
    await broker.close();
    await until(async () => expect(await connectionNames(redis, prefix)).toEqual([]));
  });

  it('a Redis that answers with an error while starting (a database it does not have) stops the start, leaving no connection', async () => {
    const prefix = fresh();
    const url = new URL(redis);
    url.pathname = '/99';
    const start = startBroker(t.services, { redisUrl: url.href, prefix });
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(
      /^WARDEN_REDIS_URL: cannot connect to Redis at redis:\/\/.*\/99: ERR DB index is out of range/,
    );
    await until(async () => expect(await connectionNames(redis, prefix)).toEqual([]));
  });

  it('a lost connection is logged and retried; the process lives on and the instances share again once Redis is back', async () => {
    const prefix = fresh();
    const proxy = await tcpProxy(redis);
    const { logger, entries } = recordingLogger();
    // A reaches Redis through the proxy, B directly.
    const a = await startBroker(t.services, { redisUrl: proxy.url, prefix, commandTimeoutMs }, { logger });
    const b = await startBroker(t.services, { redisUrl: redis, prefix });
    try {
      const subA = await pool.connect(a.url as string, 'ops');
      const seenA = inbox(subA);
      await subackCodes(subA, 'up/#');
      const subB = await pool.connect(b.url as string, 'ops');
      const seenB = inbox(subB);
      await subackCodes(subB, 'up/#');

      await proxy.cut();
      await until(() =>
        expect(
          entries
            .filter((e) => e.level === 50 && e.msg.startsWith('mqtt: Redis connection lost'))
            .map((e) => e.role)
            .sort(),
        ).toEqual(['publish', 'store', 'subscribe']),
      );
      // While Redis is away, A cannot read or store session state: a CONNECT fails (after the command timeout),
      // and a SUBSCRIBE is answered but gets no retained messages — neither ends the process.
      const refusedConnect = pool.connect(a.url as string, 'ops').then(
        () => 'connected',
        () => 'refused',
      );
      expect(await subackCodes(subA, 'late/#')).toEqual([0]);
      await until(() =>
        expect(entries.map((e) => e.msg)).toContain(
          'mqtt: retained messages could not be read from Redis; none sent for this SUBSCRIBE',
        ),
      );
      expect(await refusedConnect).toBe('refused');
      await proxy.restore();
      await until(() =>
        expect(
          entries
            .filter((e) => e.msg === 'mqtt: Redis connection restored')
            .map((e) => e.role)
            .sort(),
        ).toEqual(['publish', 'store', 'subscribe']),
      );
      // Both directions again: A publishes (its publishing connection), A receives (its subscriptions were renewed,
      // the one made while Redis was away included).
      await (await pool.connect(a.url as string, 'ops')).publishAsync('up/from-a', 'a', { qos: 1 });
      await until(() => expect(seenB.map((m) => m.topic)).toContain('up/from-a'));
      const publisherB = await pool.connect(b.url as string, 'ops');
      await publisherB.publishAsync('up/from-b', 'b', { qos: 1 });
      await until(() => expect(seenA.map((m) => m.topic)).toContain('up/from-b'));
      await publisherB.publishAsync('late/from-b', 'b', { qos: 1 });
      await until(() => expect(seenA.map((m) => m.topic)).toContain('late/from-b'));
      expect(subA.connected && subB.connected).toBe(true);
    } finally {
      await pool.endAll();
      await a.close();
      await b.close();
      await proxy.close();
    }
  });

  it('closing the broker while Redis is unreachable still ends, with its clients closed', async () => {
    const prefix = fresh();
    const proxy = await tcpProxy(redis);
    const broker = await startBroker(t.services, { redisUrl: proxy.url, prefix, commandTimeoutMs });
    // With a will: closing the client publishes it and removes it from Redis, neither of which can succeed now.
    const client = await pool.connect(broker.url as string, 'ops', {
      will: { topic: 'status/ops', payload: Buffer.from('gone'), qos: 1, retain: false },
    });
    await subackCodes(client, 'up/#');
    const ended = closed(client);
    await proxy.cut();
    await broker.close();
    await ended;
    await proxy.close();
    // Commands still queued when the connections were ended fail when their timeout passes; those nobody awaits
    // (the persistence removes a will's list entry without waiting) must not be unhandled rejections, which
    // end a Node process (vitest reports them).
    await new Promise((resolve) => setTimeout(resolve, 3 * commandTimeoutMs));
  });

  it('a will left by an instance that crashed is published by another, if its owner may publish it; a refused one is dropped', async () => {
    const prefix = fresh();
    // aedes takes a broker for dead after three missed heartbeats and publishes its wills at once: short enough
    // to keep the test quick, long enough that a child busy starting up (tsx, a loaded CI machine) is not taken
    // for dead before it is killed — 500 ms still was, once, under the full suite's load (one will published
    // early, so the store never held both).
    const heartbeatIntervalMs = 1500;
    const survivor = await startBroker(t.services, { redisUrl: redis, prefix }, { heartbeatIntervalMs });
    const crashing = await spawnInstance(t, { redisUrl: redis, prefix, heartbeatIntervalMs });
    try {
      const watcher = await pool.connect(survivor.url as string, 'ops');
      const seen = inbox(watcher);
      await subackCodes(watcher, ['status/#', 'marker/#']);
      // plc may publish to status/<its client id>; mute may publish nothing.
      const will = (clientId: string) => ({
        topic: `status/${clientId}`,
        payload: Buffer.from('offline'),
        qos: 1 as const,
        retain: false,
      });
      await pool.connect(crashing.url, 'plc', { clientId: 'plc-9', will: will('plc-9') });
      await pool.connect(crashing.url, 'mute', { clientId: 'mute-1', will: will('mute-1') });
      const store = redisClient(redis);
      await store.connect();
      try {
        // aedes stores a will after it answered the CONNECT.
        await until(async () => expect(await store.llen(`${prefix}:will`)).toBe(2));
        crashing.kill();
        // Both wills leave the store: one published, one refused.
        await until(async () => expect(await store.llen(`${prefix}:will`)).toBe(0));
      } finally {
        store.disconnect();
      }
      await (await pool.connect(survivor.url as string, 'ops')).publishAsync('marker/wills', 'marker', {
        qos: 1,
      });
      await until(() => expect(seen.map((m) => m.topic)).toEqual(['status/plc-9', 'marker/wills']));
    } finally {
      crashing.kill();
      await pool.endAll();
      await survivor.close();
    }
  });
});

/** A broker instance in a child process (test/helpers/broker-instance.ts) on the suite's database. */
async function spawnInstance(
  t: TestContext,
  settings: { redisUrl: string; prefix: string; heartbeatIntervalMs: number },
): Promise<{ url: string; kill(): void }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/broker-instance.ts'],
    {
      env: {
        ...process.env,
        WARDEN_TEST_INSTANCE: JSON.stringify({ location: t.database.location, ...settings }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (chunk) => {
    out += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    out += String(chunk);
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`broker instance exited with ${code}:\n${out}`)));
  });
  return { url: `mqtt://127.0.0.1:${port}`, kill: () => child.kill('SIGKILL') };
}

describe('without WARDEN_REDIS_URL each broker stands alone', () => {
  let t: TestContext;
  let a: EmbeddedBroker;
  let b: EmbeddedBroker;
  const pool = clientPool();

  beforeAll(async () => {
    t = await createTestContext();
    await seed(t);
    a = await startBroker(t.services, null);
    b = await startBroker(t.services, null);
  });
  afterEach(() => pool.endAll());
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await t?.close();
  });

  it('shares neither live messages, nor retained messages, nor sessions between two brokers', async () => {
    const onA = await pool.connect(a.url as string, 'ops');
    const seenA = inbox(onA);
    const onB = await pool.connect(b.url as string, 'ops');
    const seenB = inbox(onB);
    await subackCodes(onA, 'live/#');
    await subackCodes(onB, 'live/#');
    await (await pool.connect(a.url as string, 'ops')).publishAsync('live/a', 'a', { qos: 1 });
    await until(() => expect(seenA.map((m) => m.topic)).toEqual(['live/a']));
    await (await pool.connect(b.url as string, 'ops')).publishAsync('live/b', 'b', { qos: 1 });
    await until(() => expect(seenB.map((m) => m.topic)).toEqual(['live/b']));

    const publisherA = await pool.connect(a.url as string, 'ops');
    await publishThrough(publisherA, 'r/a', 'a', { qos: 1, retain: true });
    await publishThrough(await pool.connect(b.url as string, 'ops'), 'r/b', 'b', { qos: 1, retain: true });
    const late = await pool.connect(b.url as string, 'ops');
    const lateSeen = inbox(late);
    await subackCodes(late, ['r/a', 'r/b']);
    await until(() => expect(lateSeen.map((m) => m.topic)).toEqual(['r/b']));

    const session = { clientId: 'standalone-sess', clean: false } as const;
    const first = await pool.connect(a.url as string, 'sess', session);
    await subackCodes(first, 'q/#', 1);
    await first.endAsync();
    await until(() => expect(t.services.mqttConnections.ofUser('sess')).toEqual([]));
    await publishThrough(publisherA, 'q/queued', 'queued on A', { qos: 1 });
    const { client: elsewhere, connack } = pool.open(b.url as string, 'sess', session);
    const seen = inbox(elsewhere);
    expect((await connack).sessionPresent).toBe(false);
    await subackCodes(elsewhere, 'q/#', 1);
    await (await pool.connect(b.url as string, 'ops')).publishAsync('q/marker', 'marker', { qos: 1 });
    await until(() => expect(seen.map((m) => m.topic)).toEqual(['q/marker']));
  });
});

describe('WARDEN_REDIS_URL', () => {
  it('an unreachable Redis stops `warden serve` with an error naming WARDEN_REDIS_URL (password not shown); nothing stays open', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-redis-'));
    const mqttPort = await freePort();
    const redisPort = await freePort();
    const env = {
      WARDEN_DATA_DIR: dataDir,
      WARDEN_HTTP_PORT: '0',
      WARDEN_HTTP_HOST: '127.0.0.1',
      WARDEN_MQTT_HOST: '127.0.0.1',
      WARDEN_MQTT_PORT: String(mqttPort),
      WARDEN_ADMIN_PASSWORD: 'Root-Passw0rd!',
      WARDEN_LOG_LEVEL: 'silent',
    };
    try {
      const start = startServer(
        loadConfig({ ...env, WARDEN_REDIS_URL: `redis://:s3cret@127.0.0.1:${redisPort}` }),
      );
      await expect(start).rejects.toThrow(ConfigError);
      await expect(start).rejects.toThrow(
        `WARDEN_REDIS_URL: cannot connect to Redis at redis://127.0.0.1:${redisPort}: connect ECONNREFUSED`,
      );
      await expect(start).rejects.not.toThrow('s3cret');
      // The MQTT port and the database were released: the same configuration without Redis starts.
      const server = await startServer(loadConfig(env));
      expect(server.broker?.port).toBe(mqttPort);
      await server.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
