/**
 * Delivery latency of the embedded broker alone versus two brokers forming one through Redis (docs/mqtt.md,
 * "Several instances"): the time from a PUBLISH to its delivery at a subscriber, one message at a time, for
 *  - standalone: publisher and subscriber on one broker without Redis (aedes' in-memory emitter);
 *  - same instance: both on broker A of the pair (every message still goes through Redis);
 *  - A → B: publisher on A, subscriber on B.
 * Access control is on everywhere. Modes alternate by round; percentiles over all rounds.
 * Run: npm run bench:cluster   (BENCH_REDIS_URL, default redis://127.0.0.1:6379; BENCH_MESSAGES, BENCH_ROUNDS)
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { startLocalBroker } from '../test/helpers/local-broker.js';
import { createRole, DEVICE_PASSWORD, seedDevices } from './lib/mqtt-fixture.js';
import { openBenchServices } from './lib/services.js';
import { fmt, machineLine, percentile } from './lib/stats.js';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Cheap argon2 for the fixtures: authentication is not what is measured here. */
const FIXTURE_HASH = { params: { memoryCost: 1024, timeCost: 1, parallelism: 1 } };

type Mode = 'standalone' | 'same instance' | 'A → B';
const MODES: readonly Mode[] = ['standalone', 'same instance', 'A → B'];

function connect(url: string, username: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    username,
    password: DEVICE_PASSWORD,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
}

/** One message at a time: publish, wait for the subscriber to have it, record the time, next. */
async function round(publishUrl: string, subscribeUrl: string, qos: 0 | 1): Promise<number[]> {
  const subscriber = await connect(subscribeUrl, 'sub-0');
  await subscriber.subscribeAsync('dt/+/+/up', { qos });
  const publisher = await connect(publishUrl, 'pub-0');
  let arrived: (() => void) | null = null;
  subscriber.on('message', () => arrived?.());
  const samples: number[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const received = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const startedAt = process.hrtime.bigint();
    publisher.publish(`dt/pub-0/t${i % 10}/up`, `{"n":${i}}`, { qos });
    await received;
    samples.push(Number(process.hrtime.bigint() - startedAt) / 1e6);
  }
  await Promise.all([publisher.endAsync(), subscriber.endAsync()]);
  return samples;
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

async function main(): Promise<void> {
  const { services, close } = await openBenchServices(FIXTURE_HASH);
  await createRole(services, {
    name: 'telemetry',
    rules: [
      { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up', qos: [0, 1] },
      { permission: 'allow', action: 'subscribe', topic: 'dt/+/+/up' },
    ],
  });
  await seedDevices(services, { prefix: 'pub', count: 1, accessRoles: ['telemetry'] });
  await seedDevices(services, { prefix: 'sub', count: 1, accessRoles: ['telemetry'] });
  const prefix = `warden-bench-${randomBytes(4).toString('hex')}`;
  const cluster = { redisUrl: REDIS_URL, prefix };
  const alone = await startLocalBroker(services);
  const a = await startLocalBroker(services, { cluster });
  const b = await startLocalBroker(services, { cluster });
  const urls: Record<Mode, [string, string]> = {
    standalone: [alone.url as string, alone.url as string],
    'same instance': [a.url as string, a.url as string],
    'A → B': [a.url as string, b.url as string],
  };

  const lines = [
    `Machine: ${machineLine()}; Redis ${REDIS_URL.replace(/\/\/[^@]*@/, '//')} on the same machine.`,
    `${MESSAGES.toLocaleString('en')} messages one at a time per round, ${ROUNDS} rounds per mode (modes alternate); one publisher, one subscriber, clients in the broker process; access control on.`,
    '',
    '| QoS | mode | messages | p50 ms | p95 ms | p99 ms | p50 / standalone |',
    '|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const qos of [0, 1] as const) {
    const samples: Record<Mode, number[]> = { standalone: [], 'same instance': [], 'A → B': [] };
    // One unmeasured warm-up per mode (JIT, credential cache, compiled rules, Redis subscriptions).
    for (const mode of MODES) await round(...urls[mode], qos);
    for (let r = 0; r < ROUNDS; r++)
      for (const mode of MODES) samples[mode].push(...(await round(...urls[mode], qos)));
    const base = percentile(samples.standalone, 50);
    for (const mode of MODES) {
      const p50 = percentile(samples[mode], 50);
      lines.push(
        `| ${qos} | ${mode} | ${samples[mode].length.toLocaleString('en')} | ${fmt(p50)} | ${fmt(percentile(samples[mode], 95))} | ${fmt(percentile(samples[mode], 99))} | ${(p50 / base).toFixed(2)} |`,
      );
    }
  }
  await alone.close();
  await a.close();
  await b.close();
  await close();
  await deleteKeys(prefix);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
