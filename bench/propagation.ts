/**
 * How fast a change reaches enforcement in another process, through the change feed:
 *  1. SQLite: a change made by another process on the same database (as `warden users deactivate` does) →
 *     the running server's embedded broker has closed the client's connection and refuses its next CONNECT;
 *     the same change made through the server's own services, in the same run, as the baseline;
 *  2. PostgreSQL: instance A changes (its services: the API's path) → instance B's embedded broker has closed
 *     the connection (LISTEN/NOTIFY wake-up, catch-up by id);
 *  3. the feed's cost per change: the time of a user update with the feed against the same update with the
 *     append switched off, on both engines, and the rows it adds.
 * Run: npm run bench:propagation (PostgreSQL from BENCH_POSTGRES_URL or TEST_POSTGRES_URL; part 2 and the
 * PostgreSQL half of part 3 are skipped without one).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import pino from 'pino';
import { systemClock } from '../src/core/clock.js';
import { PasswordHasher } from '../src/core/crypto/password-hasher.js';
import { DomainEventBus } from '../src/core/events.js';
import { type DatabaseHandle, migrateToLatest, openDatabase } from '../src/db/database.js';
import { CLI_CONTEXT } from '../src/modules/permissions/operation-context.js';
import { DEFAULT_SECURITY_SETTINGS } from '../src/modules/settings/settings.schemas.js';
import { createServices, type Services, startServices } from '../src/services.js';
import { DEVICE_PASSWORD, seedDevices, startWardenBroker } from './lib/mqtt-fixture.js';
import { fmt, machineLine, percentile } from './lib/stats.js';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 200);
const UPDATES = Number(process.env.BENCH_UPDATES ?? 500);
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? null;
const SECRET = randomBytes(32).toString('base64url');
const FIXTURE_HASH = { params: { memoryCost: 1024, timeCost: 1, parallelism: 1 } };

interface Instance {
  readonly services: Services;
  stop(): Promise<void>;
}

function servicesOn(handle: DatabaseHandle): Services {
  return createServices({
    db: handle.db,
    engine: handle.engine,
    clock: systemClock,
    hasher: new PasswordHasher(FIXTURE_HASH),
    events: new DomainEventBus((error) => process.stderr.write(`listener failed: ${String(error)}\n`)),
    secretKey: SECRET,
    ...(handle.notifications ? { notifications: handle.notifications } : {}),
    ...(handle.locks ? { locks: handle.locks } : {}),
  });
}

async function serving(handle: DatabaseHandle): Promise<Instance> {
  const services = servicesOn(handle);
  const stop = await startServices(services, { logger: pino({ level: 'silent' }) });
  return { services, stop };
}

const elapsedMs = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

function connect(url: string, username: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    username,
    password: DEVICE_PASSWORD,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
}

/** Whether a CONNECT with the device password is refused now. */
async function refused(url: string, username: string): Promise<boolean> {
  try {
    const client = await connect(url, username);
    await client.endAsync(true);
    return false;
  } catch {
    return true;
  }
}

/**
 * One sample per user: `change(username)` is called; the sample ends when the client connected to `url` has
 * been closed and a new CONNECT is refused.
 */
async function revocations(
  url: string,
  users: readonly string[],
  change: (username: string) => Promise<unknown>,
): Promise<number[]> {
  const samples: number[] = [];
  for (const username of users) {
    const client = await connect(url, username);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const start = process.hrtime.bigint();
    await change(username);
    await closed;
    while (!(await refused(url, username))) await new Promise((resolve) => setImmediate(resolve));
    samples.push(elapsedMs(start));
  }
  return samples;
}

async function prepare(services: Services, prefix: string, count: number): Promise<string[]> {
  await services.settings.putSecurity(CLI_CONTEXT, {
    ...DEFAULT_SECURITY_SETTINGS,
    throttle: {
      ...DEFAULT_SECURITY_SETTINGS.throttle,
      maxAttemptsPerIp: 100_000,
      maxAttemptsPerAccount: 1000,
    },
  });
  await services.accessRoles.create(CLI_CONTEXT, {
    name: `${prefix}-role`,
    rules: [{ permission: 'allow', action: 'publish', topic: 'dt/${username}/#' }],
  });
  return seedDevices(services, { prefix, count, accessRoles: [`${prefix}-role`] });
}

/** Mean time of `UPDATES` user updates; with `feed: false` the append is switched off (what the feed costs). */
async function updateCost(services: Services, username: string, feed: boolean): Promise<number> {
  const changes = services.changes as { record: Services['changes']['record'] };
  const record = changes.record;
  if (!feed) changes.record = async () => {};
  try {
    const start = process.hrtime.bigint();
    for (let i = 0; i < UPDATES; i++) {
      await services.users.update(CLI_CONTEXT, username, { description: `update ${i} ${feed}` });
    }
    return elapsedMs(start) / UPDATES;
  } finally {
    changes.record = record;
  }
}

function row(label: string, samples: readonly number[]): string {
  const p = (q: number): string => fmt(percentile(samples, q));
  return `| ${label} | ${samples.length} | ${p(50)} | ${p(95)} | ${p(99)} | ${fmt(Math.max(...samples))} |`;
}

const lines: string[] = [`Machine: ${machineLine()}.`, ''];
const costs: string[] = [];

// 1. SQLite: another process (the CLI) → the running server.
{
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-bench-propagation-'));
  const serverDb = openDatabase({ databaseUrl: null, dataDir: dir });
  await migrateToLatest(serverDb.db);
  const server = await serving(serverDb);
  const mqttBroker = await startWardenBroker(server.services);
  const url = mqttBroker.url as string;
  const cliDb = openDatabase({ databaseUrl: null, dataDir: dir });
  const cli = servicesOn(cliDb);
  const users = await prepare(server.services, 'sqlite-dev', CHANGES * 2 + 20);
  await revocations(url, users.slice(0, 10), (u) => cli.users.deactivate(CLI_CONTEXT, u));
  await revocations(url, users.slice(10, 20), (u) => server.services.users.deactivate(CLI_CONTEXT, u));
  const fromCli = await revocations(url, users.slice(20, 20 + CHANGES), (u) =>
    cli.users.deactivate(CLI_CONTEXT, u),
  );
  const local = await revocations(url, users.slice(20 + CHANGES), (u) =>
    server.services.users.deactivate(CLI_CONTEXT, u),
  );
  const [probe] = await prepare(server.services, 'sqlite-cost', 1);
  const withFeed = await updateCost(server.services, probe as string, true);
  const withoutFeed = await updateCost(server.services, probe as string, false);
  costs.push(`| sqlite | ${fmt(withoutFeed)} | ${fmt(withFeed)} | ${(withFeed / withoutFeed).toFixed(2)} |`);
  lines.push(
    `SQLite (server polls the feed every 100 ms), ${CHANGES} deactivations each, one at a time: from the call (commit included) until the live connection is closed and a new CONNECT is refused.`,
    '',
    '| change made by | n | p50 ms | p95 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|---:|---:|',
    row('another process on the database (CLI) → server', fromCli),
    row("the server's own services (baseline)", local),
    '',
  );
  await mqttBroker.close();
  await server.stop();
  await cliDb.close();
  await serverDb.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

// 2. PostgreSQL: instance A → instance B.
if (POSTGRES_URL) {
  const schema = `warden_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  try {
    const open = (): DatabaseHandle =>
      openDatabase({ databaseUrl: POSTGRES_URL, dataDir: os.tmpdir(), searchPath: schema });
    const dbA = open();
    const dbB = open();
    await migrateToLatest(dbA.db);
    const a = await serving(dbA);
    const b = await serving(dbB);
    const mqttBroker = await startWardenBroker(b.services);
    const url = mqttBroker.url as string;
    const users = await prepare(a.services, 'pg-dev', CHANGES + 10);
    await revocations(url, users.slice(0, 10), (u) => a.services.users.deactivate(CLI_CONTEXT, u));
    const acrossInstances = await revocations(url, users.slice(10), (u) =>
      a.services.users.deactivate(CLI_CONTEXT, u),
    );
    const [probe] = await prepare(a.services, 'pg-cost', 1);
    const withFeed = await updateCost(a.services, probe as string, true);
    const withoutFeed = await updateCost(a.services, probe as string, false);
    costs.push(
      `| postgres | ${fmt(withoutFeed)} | ${fmt(withFeed)} | ${(withFeed / withoutFeed).toFixed(2)} |`,
    );
    lines.push(
      `PostgreSQL (LISTEN/NOTIFY wake-up, catch-up by id), two instances on one database, ${CHANGES} deactivations made on A, measured at B's embedded broker:`,
      '',
      '| change | n | p50 ms | p95 ms | p99 ms | max ms |',
      '|---|---:|---:|---:|---:|---:|',
      row('A (services) → B (embedded broker)', acrossInstances),
      '',
    );
    await mqttBroker.close();
    await b.stop();
    await a.stop();
    await dbB.close();
    await dbA.close();
  } finally {
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
}

lines.push(
  `The feed's cost per change: mean time of ${UPDATES} user updates (one transaction each, audit included) with the feed's append, and with the append switched off; each change adds one row (pruned after 24 h).`,
  '',
  '| engine | without feed ms | with feed ms | ratio |',
  '|---|---:|---:|---:|',
  ...costs,
);
process.stdout.write(`${lines.join('\n')}\n`);
