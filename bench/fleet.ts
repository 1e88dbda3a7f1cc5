/**
 * Fleet-scale authentication: a cold reconnect storm of N devices, each with its own credential, against a
 * Warden just started on the seeded database (every cache empty, as after a power cut or a restart), versus the
 * same storm against plain aedes without authentication, in the same run:
 * - N devices whose secrets Warden generated (keyed fast hash), the largest count this machine's limits allow;
 * - M devices whose passwords a person typed (argon2id), fewer, as the floor the fast hash replaces.
 * Every broker runs in its own process, started fresh for its storm; the clients run in another one and connect
 * from several 127.0.x.y source addresses (each address has ~28,000 ephemeral ports and the storms follow each
 * other while closed ports linger in TIME_WAIT). After each storm the broker's idle RSS is read with everyone
 * connected.
 * Run: npm run bench:fleet   (BENCH_DEVICES, BENCH_TYPED_DEVICES, BENCH_CONCURRENCY, BENCH_SOURCES, BENCH_ROUNDS)
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { generateSecret } from '../src/core/crypto/generated-secret.js';
import { CLI_CONTEXT } from '../src/modules/permissions/operation-context.js';
import { DEFAULT_SECURITY_SETTINGS } from '../src/modules/settings/settings.schemas.js';
import {
  createRole,
  type SeededCredential,
  seedDevices,
  startPlainBroker,
  startWardenBroker,
} from './lib/mqtt-fixture.js';
import { openServicesAt } from './lib/services.js';
import { machineLine } from './lib/stats.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 15_000);
const TYPED_DEVICES = Number(process.env.BENCH_TYPED_DEVICES ?? 1_500);
/** CONNECTs in flight from the client side. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1_000);
/**
 * CONNECTs in flight in the typed storms: argon2 runs on the bounded pool (cores × 32 queued at most, then
 * "server unavailable"), so a cold start of devices with typed passwords is paced by the hasher, not the broker.
 */
const TYPED_CONCURRENCY = Number(process.env.BENCH_TYPED_CONCURRENCY ?? os.availableParallelism() * 32);
/** Source addresses per storm. */
const SOURCES = Number(process.env.BENCH_SOURCES ?? 4);
/**
 * Storms of the generated fleet per broker, alternating, so that a busy machine disturbs both alike; the median
 * is compared. The typed storms, slow by nature, run once each.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** The fleet the numbers are extrapolated to. */
const FLEET = 100_000;
/** Time for the broker to settle before its idle RSS is read. */
const SETTLE_MS = 3_000;

type BrokerKind = 'plain aedes' | 'warden';

interface Device {
  readonly username: string;
  readonly password: string;
}

interface Storm {
  readonly name: string;
  readonly broker: BrokerKind;
  readonly devices: readonly Device[];
  readonly concurrency: number;
}

interface StormResult {
  readonly storm: Storm;
  readonly seconds: number;
  readonly connected: number;
  readonly failures: number;
  readonly rssBeforeMiB: number;
  readonly rssConnectedMiB: number;
  /** CPU time the broker process spent from its start to the idle reading: the storm's work. */
  readonly brokerCpuMs: number;
}

/** Messages between the processes. */
type ToBroker = { cmd: 'rss' } | { cmd: 'stop' };
/** The broker's resident memory and the CPU time it used so far (user + system, ms). */
interface BrokerReading {
  readonly rss: number;
  readonly cpuMs: number;
}
type FromBroker = (BrokerReading & { port: number }) | (BrokerReading & { refusals: Record<string, number> });
type ToClients =
  | { cmd: 'connect'; port: number; devices: readonly Device[]; subnet: number; concurrency: number }
  | { cmd: 'end' };
type FromClients = { connected: number; failures: number; seconds: number } | { ended: true };

const mib = (bytes: number): number => bytes / 2 ** 20;

// ---- broker side (child process per storm) -------------------------------------------------------------

function reading(): BrokerReading {
  const { user, system } = process.cpuUsage();
  return { rss: process.memoryUsage().rss, cpuMs: (user + system) / 1000 };
}

async function brokerMain(kind: BrokerKind, dir: string): Promise<void> {
  let stop: () => Promise<void>;
  let port: number;
  let refusals: () => Record<string, number> = () => ({});
  if (kind === 'plain aedes') {
    const plain = await startPlainBroker();
    port = Number(new URL(plain.url).port);
    stop = () => plain.close();
  } else {
    const opened = await openServicesAt(dir, process.env.BENCH_SECRET_KEY as string);
    const broker = await startWardenBroker(opened.services);
    port = Number(new URL(broker.url as string).port);
    refusals = () => ({ ...broker.protocolRefusals() });
    stop = async () => {
      await broker.close();
      await opened.close();
    };
  }
  const send = (message: FromBroker): void => {
    process.send?.(message);
  };
  process.on('message', async (message: ToBroker) => {
    if (message.cmd === 'rss') send({ ...reading(), refusals: refusals() });
    else {
      await stop();
      process.exit(0);
    }
  });
  send({ port, ...reading() });
}

// ---- client side (one child process for every storm) ---------------------------------------------------

/** One MQTT 3.1.1 client from `localAddress` (mqtt.js builds its TCP stream without one). */
function connectFrom(port: number, localAddress: string, device: Device): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = new mqtt.MqttClient(
      () => net.createConnection({ host: '127.0.0.1', port, localAddress }),
      {
        username: device.username,
        password: device.password,
        clientId: device.username,
        reconnectPeriod: 0,
        connectTimeout: 120_000,
        keepalive: 0,
        protocolVersion: 4,
      },
    );
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

async function clientsMain(): Promise<void> {
  let clients: MqttClient[] = [];
  process.on('message', async (message: ToClients) => {
    if (message.cmd === 'end') {
      await Promise.all(clients.map((client) => client.endAsync(true)));
      clients = [];
      process.send?.({ ended: true } satisfies FromClients);
      return;
    }
    const { port, devices, subnet, concurrency } = message;
    const reasons = new Map<string, number>();
    let failures = 0;
    let next = 0;
    const start = process.hrtime.bigint();
    const worker = async (): Promise<void> => {
      while (next < devices.length) {
        const n = next++;
        const localAddress = `127.0.${subnet}.${2 + (n % SOURCES)}`;
        try {
          clients.push(await connectFrom(port, localAddress, devices[n] as Device));
        } catch (error) {
          failures++;
          const reason = error instanceof Error ? error.message : String(error);
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    for (const [reason, count] of reasons) process.stderr.write(`${count} × ${reason}\n`);
    process.send?.({ connected: clients.length, failures, seconds } satisfies FromClients);
  });
}

// ---- orchestration -------------------------------------------------------------------------------------

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`child exited with ${code}`));
    child.once('exit', onExit);
    child.once('message', (message) => {
      child.off('exit', onExit);
      resolve(message as T);
    });
  });
}

/** The seeded database: the access role, N devices with generated secrets, M with typed passwords. */
async function seed(dir: string, secretKey: string): Promise<{ generated: Device[]; typed: Device[] }> {
  const { services, close } = await openServicesAt(dir, secretKey);
  try {
    await services.settings.putSecurity(CLI_CONTEXT, {
      ...DEFAULT_SECURITY_SETTINGS,
      // Every device connects from a handful of loopback addresses: the per-address budget is not under test.
      throttle: { ...DEFAULT_SECURITY_SETTINGS.throttle, maxAttemptsPerIp: 100_000 },
    });
    await createRole(services, {
      name: 'device',
      rules: [
        { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up' },
        { permission: 'allow', action: 'subscribe', topic: 'cmd/${clientid}/#' },
      ],
    });
    const secrets = Array.from({ length: DEVICES }, () => generateSecret());
    const generatedNames = await seedDevices(services, {
      prefix: 'gen',
      count: DEVICES,
      accessRoles: ['device'],
      credentials: secrets.map(
        (secret): SeededCredential => ({
          hash: services.credentials.hashGenerated(secret),
          origin: 'generated',
        }),
      ),
    });
    const typedPasswords = Array.from({ length: TYPED_DEVICES }, (_, i) => `Typed-${i}-Passw0rd!`);
    // Hashed through the bounded pool with the production parameters, as a person's password would be, a few
    // at a time (the pool refuses more than its queue holds).
    const typedHashes: string[] = [];
    for (let i = 0; i < typedPasswords.length; i += 32) {
      const chunk = typedPasswords.slice(i, i + 32);
      typedHashes.push(...(await Promise.all(chunk.map((password) => services.credentials.hash(password)))));
    }
    const typedNames = await seedDevices(services, {
      prefix: 'typed',
      count: TYPED_DEVICES,
      accessRoles: ['device'],
      credentials: typedHashes.map((hash): SeededCredential => ({ hash, origin: 'chosen' })),
    });
    return {
      generated: generatedNames.map((username, i) => ({ username, password: secrets[i] as string })),
      typed: typedNames.map((username, i) => ({ username, password: typedPasswords[i] as string })),
    };
  } finally {
    await close();
  }
}

async function runStorm(
  storm: Storm,
  subnet: number,
  clients: ChildProcess,
  dir: string,
  secretKey: string,
): Promise<StormResult> {
  const broker = fork(fileURLToPath(import.meta.url), ['--broker', storm.broker, dir], {
    env: { ...process.env, BENCH_SECRET_KEY: secretKey },
  });
  try {
    const started = await nextMessage<BrokerReading & { port: number }>(broker);
    const done = nextMessage<{ connected: number; failures: number; seconds: number }>(clients);
    clients.send({
      cmd: 'connect',
      port: started.port,
      devices: storm.devices,
      subnet,
      concurrency: storm.concurrency,
    } satisfies ToClients);
    const result = await done;
    await sleep(SETTLE_MS);
    const measured = nextMessage<BrokerReading & { refusals: Record<string, number> }>(broker);
    broker.send({ cmd: 'rss' } satisfies ToBroker);
    const { rss, cpuMs, refusals } = await measured;
    const closed = Object.entries(refusals).filter(([, n]) => n > 0);
    if (closed.length > 0)
      process.stderr.write(`${storm.name}: the broker closed ${JSON.stringify(closed)}\n`);
    const ended = nextMessage<FromClients>(clients);
    clients.send({ cmd: 'end' } satisfies ToClients);
    await ended;
    process.stderr.write(
      `${storm.name}: ${result.connected} connected, ${result.failures} failed, ${result.seconds.toFixed(2)} s\n`,
    );
    return {
      storm,
      ...result,
      rssBeforeMiB: mib(started.rss),
      rssConnectedMiB: mib(rss),
      brokerCpuMs: cpuMs - started.cpuMs,
    };
  } finally {
    const exited = new Promise((resolve) => broker.once('exit', resolve));
    broker.send({ cmd: 'stop' } satisfies ToBroker);
    await exited;
  }
}

function report(results: readonly StormResult[], loads: { before: number[]; after: number[] }): string {
  /** The storm of median duration among those named so. */
  const find = (name: string): StormResult => {
    const named = results.filter((r) => r.storm.name === name).sort((a, b) => a.seconds - b.seconds);
    return named[Math.floor(named.length / 2)] as StormResult;
  };
  const perConnectionMs = (r: StormResult): number => (r.seconds * 1000) / r.connected;
  const perConnectionKiB = (r: StormResult): number =>
    ((r.rssConnectedMiB - r.rssBeforeMiB) * 1024) / r.connected;
  const generated = find('warden, generated');
  const generatedBase = find('plain aedes, generated');
  const typed = find('warden, typed');
  const typedBase = find('plain aedes, typed');
  const ratio = (on: StormResult, off: StormResult): string => (on.seconds / off.seconds).toFixed(2);
  const minutes = (r: StormResult): string => ((perConnectionMs(r) * FLEET) / 60_000).toFixed(1);
  const failures = results.reduce((sum, r) => sum + r.failures, 0);
  const load = (values: number[]): string => values.map((v) => v.toFixed(2)).join(' / ');
  return [
    `Machine: ${machineLine()}. Load average (1/5/15 min) before: ${load(loads.before)}, after: ${load(loads.after)}.`,
    `Cold storms: every broker freshly started in its own process (Warden on the seeded SQLite database, caches empty); clients in one other process, ${CONCURRENCY} CONNECTs in flight (typed: ${TYPED_CONCURRENCY}), from ${SOURCES} source addresses per storm; storms one after the other, ${ROUNDS} per broker for the generated fleet (alternating, medians compared).`,
    '',
    '| storm | devices | connected | failures | seconds | ms per connection | broker CPU ms per connection | broker RSS before → connected (MiB) | KiB per connection |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.storm.name} | ${r.storm.devices.length.toLocaleString('en')} | ${r.connected.toLocaleString('en')} | ${r.failures} | ${r.seconds.toFixed(2)} | ${perConnectionMs(r).toFixed(3)} | ${(r.brokerCpuMs / r.connected).toFixed(3)} | ${r.rssBeforeMiB.toFixed(0)} → ${r.rssConnectedMiB.toFixed(0)} | ${perConnectionKiB(r).toFixed(1)} |`,
    ),
    '',
    `Generated secrets, medians: Warden / plain aedes = ${ratio(generated, generatedBase)} (${generated.seconds.toFixed(2)} s / ${generatedBase.seconds.toFixed(2)} s; goal ≤ 1.5); failures ${failures} (goal 0).`,
    `Typed passwords (argon2id): Warden / plain aedes = ${ratio(typed, typedBase)} (${typed.seconds.toFixed(2)} s / ${typedBase.seconds.toFixed(2)} s).`,
    `Extrapolated to ${FLEET.toLocaleString('en')} devices (ms per connection × ${FLEET.toLocaleString('en')}): generated ${minutes(generated)} min, typed ${minutes(typed)} min, plain aedes ${minutes(generatedBase)} min; idle broker memory ≈ ${((perConnectionKiB(generated) * FLEET) / 2 ** 20).toFixed(2)} GiB for Warden, ${((perConnectionKiB(generatedBase) * FLEET) / 2 ** 20).toFixed(2)} GiB for plain aedes.`,
  ].join('\n');
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-fleet-bench-'));
  const secretKey = randomBytes(32).toString('base64url');
  const clients = fork(fileURLToPath(import.meta.url), ['--clients']);
  try {
    const seedStart = Date.now();
    const { generated, typed } = await seed(dir, secretKey);
    process.stderr.write(
      `seeded ${DEVICES} generated and ${TYPED_DEVICES} typed device users in ${((Date.now() - seedStart) / 1000).toFixed(1)} s\n`,
    );
    const storms: Storm[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      storms.push(
        {
          name: 'plain aedes, generated',
          broker: 'plain aedes',
          devices: generated,
          concurrency: CONCURRENCY,
        },
        { name: 'warden, generated', broker: 'warden', devices: generated, concurrency: CONCURRENCY },
      );
    }
    storms.push(
      { name: 'plain aedes, typed', broker: 'plain aedes', devices: typed, concurrency: TYPED_CONCURRENCY },
      { name: 'warden, typed', broker: 'warden', devices: typed, concurrency: TYPED_CONCURRENCY },
    );
    const loads = { before: os.loadavg(), after: [] as number[] };
    const results: StormResult[] = [];
    // A subnet per storm: no storm reuses the ports another left in TIME_WAIT.
    for (const [i, storm] of storms.entries())
      results.push(await runStorm(storm, i + 1, clients, dir, secretKey));
    loads.after = os.loadavg();
    process.stdout.write(`${report(results, loads)}\n`);
  } finally {
    clients.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const role = process.argv[2];
if (role === '--clients') await clientsMain();
else if (role === '--broker') await brokerMain(process.argv[3] as BrokerKind, process.argv[4] as string);
else await main();
