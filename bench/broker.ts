/**
 * Messages per second through the embedded broker with Warden's access control on (every PUBLISH and every
 * delivery decided by the rule engine) versus the same aedes without any hooks, in the same run with the same
 * clients. The clients run in a child process so the broker process measures the broker alone; besides wall
 * time, the broker process's CPU time per delivery is recorded, which a busy shared machine disturbs less.
 * Run: npm run bench:broker   (BENCH_PUBLISHERS, BENCH_SUBSCRIBERS, BENCH_MESSAGES, BENCH_ROUNDS)
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import {
  createRole,
  DEVICE_PASSWORD,
  seedDevices,
  startPlainBroker,
  startWardenBroker,
} from './lib/mqtt-fixture.js';
import { openBenchServices } from './lib/services.js';
import { machineLine } from './lib/stats.js';

const PUBLISHERS = Number(process.env.BENCH_PUBLISHERS ?? 4);
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 4);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Distinct topics per publisher: few = a device's usual traffic; as many as messages = every topic new. */
const TOPICS = Number(process.env.BENCH_TOPICS ?? 10);
/** QoS 1 publishes in flight per publisher: flow control without waiting for each PUBACK. */
const WINDOW = 64;

interface Round {
  label: 'off' | 'on';
  url: string;
}
interface RoundResult {
  label: 'off' | 'on';
  seconds: number;
  deliveries: number;
  /** Broker-process CPU time during the round, filled in by the parent. */
  cpuMs?: number;
}

/** Child → parent: "a measured section starts/ends now"; the parent answers once it has read its CPU time. */
function mark(): Promise<void> {
  return new Promise((resolve) => {
    process.once('message', () => resolve());
    process.send?.('mark');
  });
}

// ---- client side (child process) ------------------------------------------------------------------------

async function connect(url: string, username: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    username,
    password: DEVICE_PASSWORD,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
}

async function publishAll(client: MqttClient, username: string): Promise<void> {
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < MESSAGES) {
      const n = sent++;
      await client.publishAsync(`dt/${username}/t${n % TOPICS}/up`, `{"n":${n},"v":21.5}`, { qos: 1 });
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
}

async function runRound(round: Round): Promise<RoundResult> {
  const expected = PUBLISHERS * MESSAGES;
  const subscribers = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, (_, i) => connect(round.url, `sub-${i}`)),
  );
  const received = Promise.all(
    subscribers.map(
      (client) =>
        new Promise<void>((resolve) => {
          let count = 0;
          client.on('message', () => {
            if (++count === expected) resolve();
          });
        }),
    ),
  );
  await Promise.all(subscribers.map((client) => client.subscribeAsync('dt/+/+/up', { qos: 0 })));
  const publishers = await Promise.all(
    Array.from({ length: PUBLISHERS }, (_, i) => connect(round.url, `pub-${i}`)),
  );
  await mark();
  const start = process.hrtime.bigint();
  await Promise.all(publishers.map((client, i) => publishAll(client, `pub-${i}`)));
  await received;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await mark();
  await Promise.all([...subscribers, ...publishers].map((client) => client.endAsync()));
  return { label: round.label, seconds, deliveries: expected * SUBSCRIBERS };
}

async function clientMain(): Promise<void> {
  process.once('message', async (rounds: Round[]) => {
    const results: RoundResult[] = [];
    for (const round of rounds) results.push(await runRound(round));
    process.send?.(results, () => process.exit(0));
  });
}

// ---- broker side ---------------------------------------------------------------------------------------

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { services, close } = await openBenchServices();
  // A realistic role: per-device topics through a placeholder, a deny carve-out, and unrelated rules around.
  await createRole(services, {
    name: 'telemetry',
    rules: [
      { permission: 'deny', action: 'publish', topic: 'dt/${username}/secret/#' },
      { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up', qos: [0, 1] },
      { permission: 'allow', action: 'subscribe', topic: 'dt/+/+/up' },
      { permission: 'allow', action: 'subscribe', topic: 'cmd/${clientid}/#' },
      ...Array.from({ length: 16 }, (_, i) => ({
        permission: 'allow' as const,
        action: 'all' as const,
        topic: `site/line-${i}/+/state`,
      })),
    ],
  });
  await seedDevices(services, { prefix: 'pub', count: PUBLISHERS, accessRoles: ['telemetry'] });
  await seedDevices(services, { prefix: 'sub', count: SUBSCRIBERS, accessRoles: ['telemetry'] });
  const warden = await startWardenBroker(services);
  const plain = await startPlainBroker();
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    rounds.push({ label: 'off', url: plain.url }, { label: 'on', url: warden.url as string });
  }
  // One unmeasured warm-up round per broker (JIT, credential cache, compiled rules).
  const warmup: Round[] = [
    { label: 'off', url: plain.url },
    { label: 'on', url: warden.url as string },
  ];
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--clients']);
  const marks: number[] = [];
  const all = await new Promise<RoundResult[]>((resolve, reject) => {
    child.on('message', (message) => {
      if (message !== 'mark') return resolve(message as RoundResult[]);
      const { user, system } = process.cpuUsage();
      marks.push((user + system) / 1000);
      child.send('marked');
    });
    child.once('error', reject);
    child.send([...warmup, ...rounds]);
  });
  all.forEach((result, i) => {
    result.cpuMs = (marks[2 * i + 1] ?? Number.NaN) - (marks[2 * i] ?? Number.NaN);
  });
  const results = all.slice(warmup.length);
  await warden.close();
  await plain.close();
  await close();

  const rate = (label: 'on' | 'off'): number =>
    median(results.filter((r) => r.label === label).map((r) => r.deliveries / r.seconds));
  const off = rate('off');
  const on = rate('on');
  const cpuPerDelivery = (label: 'on' | 'off'): number =>
    median(
      results.filter((r) => r.label === label).map((r) => ((r.cpuMs ?? Number.NaN) * 1000) / r.deliveries),
    );
  const cpuOff = cpuPerDelivery('off');
  const cpuOn = cpuPerDelivery('on');
  const lines = [
    `Machine: ${machineLine()}.`,
    `${PUBLISHERS} publishers × ${MESSAGES.toLocaleString('en')} QoS 1 messages on ${TOPICS.toLocaleString('en')} topics each (window ${WINDOW}), ${SUBSCRIBERS} subscribers on dt/+/+/up (QoS 0); clients in a child process; ${ROUNDS} alternating rounds, median.`,
    '',
    '| access control | round | deliveries | seconds | deliveries/s | broker CPU µs/delivery |',
    '|---|---:|---:|---:|---:|---:|',
    ...results.map(
      (r, i) =>
        `| ${r.label} | ${Math.floor(i / 2) + 1} | ${r.deliveries.toLocaleString('en')} | ${r.seconds.toFixed(2)} | ${Math.round(r.deliveries / r.seconds).toLocaleString('en')} | ${(((r.cpuMs ?? Number.NaN) * 1000) / r.deliveries).toFixed(2)} |`,
    ),
    '',
    `Median deliveries/s: off ${Math.round(off).toLocaleString('en')}, on ${Math.round(on).toLocaleString('en')}; throughput overhead ${(((off - on) / off) * 100).toFixed(1)} % (goal ≤ 10 %).`,
    `Median broker CPU per delivery: off ${cpuOff.toFixed(2)} µs, on ${cpuOn.toFixed(2)} µs; CPU overhead ${(((cpuOn - cpuOff) / cpuOff) * 100).toFixed(1)} %.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv.includes('--clients')) await clientMain();
else await main();
