/**
 * Reconnect storm: 10,000 MQTT clients (1,000 device users × 10 client ids) connect to the embedded broker
 * with Warden authentication, versus the same aedes without authentication. Per broker: a cold connect of
 * everyone (for Warden: one argon2 verification per user), all disconnect; then the measured storms, alternating
 * between the brokers: everyone reconnects at once (for Warden the credential cache answers), then disconnects.
 * Clients run in a child process, loopback only.
 * Run: npm run bench:reconnect   (BENCH_USERS, BENCH_CLIENTS_PER_USER, BENCH_CONCURRENCY, BENCH_ROUNDS)
 */
import { fork } from 'node:child_process';
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

const USERS = Number(process.env.BENCH_USERS ?? 1_000);
const CLIENTS_PER_USER = Number(process.env.BENCH_CLIENTS_PER_USER ?? 10);
/** Connects in flight from the client side during the storm. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1_000);
/**
 * Connects in flight during the cold phase: argon2 runs on the bounded pool (cores × 32 queued at most), so a
 * cold start of thousands of distinct devices is paced by the hasher, not by the broker.
 */
const COLD_CONCURRENCY = Number(process.env.BENCH_COLD_CONCURRENCY ?? 200);
/** Storms per broker, alternating, so that a busy machine disturbs both alike; the median is compared. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Phase {
  broker: 'plain aedes' | 'warden';
  phase: 'cold' | 'storm';
  url: string;
  concurrency: number;
}
interface PhaseResult extends Phase {
  seconds: number;
  connected: number;
  failures: number;
}

// ---- client side (child process) ------------------------------------------------------------------------

/** Connects every client with at most `concurrency` CONNECTs in flight; keeps the connections open. */
async function connectAll(
  phase: Phase,
): Promise<{ clients: MqttClient[]; failures: number; seconds: number }> {
  const clients: MqttClient[] = [];
  let failures = 0;
  const reasons = new Map<string, number>();
  let next = 0;
  const total = USERS * CLIENTS_PER_USER;
  const start = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < total) {
      const n = next++;
      // Clients of one user are adjacent: a storm of one device's reconnects, as after a network blip.
      const user = Math.floor(n / CLIENTS_PER_USER);
      try {
        clients.push(
          await mqtt.connectAsync(phase.url, {
            username: `dev-${user}`,
            password: DEVICE_PASSWORD,
            clientId: `dev-${user}-${n % CLIENTS_PER_USER}`,
            reconnectPeriod: 0,
            connectTimeout: 60_000,
            keepalive: 0,
            protocolVersion: 4,
          }),
        );
      } catch (error) {
        failures++;
        const reason = error instanceof Error ? error.message : String(error);
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: phase.concurrency }, worker));
  for (const [reason, count] of reasons)
    process.stderr.write(`${phase.broker} ${phase.phase}: ${count} × ${reason}\n`);
  return { clients, failures, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

async function clientMain(): Promise<void> {
  process.on('message', async (phases: Phase[]) => {
    const results: PhaseResult[] = [];
    for (const phase of phases) {
      const { clients, failures, seconds } = await connectAll(phase);
      results.push({ ...phase, seconds, connected: clients.length, failures });
      await Promise.all(clients.map((client) => client.endAsync(true)));
    }
    process.send?.(results, () => process.exit(0));
  });
}

// ---- broker side ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { services, close } = await openBenchServices();
  await createRole(services, {
    name: 'device',
    rules: [
      { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up' },
      { permission: 'allow', action: 'subscribe', topic: 'cmd/${clientid}/#' },
    ],
  });
  const seedStart = Date.now();
  await seedDevices(services, { prefix: 'dev', count: USERS, accessRoles: ['device'] });
  process.stderr.write(`seeded ${USERS} device users in ${((Date.now() - seedStart) / 1000).toFixed(1)} s\n`);
  const warden = await startWardenBroker(services);
  const plain = await startPlainBroker();
  const phases: Phase[] = [
    { broker: 'plain aedes', phase: 'cold', url: plain.url, concurrency: COLD_CONCURRENCY },
    { broker: 'warden', phase: 'cold', url: warden.url as string, concurrency: COLD_CONCURRENCY },
  ];
  for (let i = 0; i < ROUNDS; i++) {
    phases.push(
      { broker: 'plain aedes', phase: 'storm', url: plain.url, concurrency: CONCURRENCY },
      { broker: 'warden', phase: 'storm', url: warden.url as string, concurrency: CONCURRENCY },
    );
  }
  const child = fork(fileURLToPath(import.meta.url), ['--clients']);
  const results = await new Promise<PhaseResult[]>((resolve, reject) => {
    child.once('message', (message) => resolve(message as PhaseResult[]));
    child.once('error', reject);
    child.send(phases);
  });
  const cached = services.mqttAuth.cachedCredentials;
  await warden.close();
  await plain.close();
  await close();

  const storm = (broker: Phase['broker']): number => {
    const seconds = results
      .filter((r) => r.broker === broker && r.phase === 'storm')
      .map((r) => r.seconds)
      .sort((a, b) => a - b);
    return seconds[Math.floor(seconds.length / 2)] ?? Number.NaN;
  };
  const on = storm('warden');
  const off = storm('plain aedes');
  const failures = results.reduce((sum, r) => sum + r.failures, 0);
  const lines = [
    `Machine: ${machineLine()}.`,
    `${(USERS * CLIENTS_PER_USER).toLocaleString('en')} clients (${USERS.toLocaleString('en')} users × ${CLIENTS_PER_USER}), loopback, clients in a child process; cold phase ${COLD_CONCURRENCY} and storm ${CONCURRENCY} CONNECTs in flight; ${ROUNDS} storms per broker, alternating.`,
    '',
    '| broker | phase | connected | failures | seconds | connects/s |',
    '|---|---|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.broker} | ${r.phase} | ${r.connected.toLocaleString('en')} | ${r.failures} | ${r.seconds.toFixed(2)} | ${Math.round(r.connected / r.seconds).toLocaleString('en')} |`,
    ),
    '',
    `Median storm with authentication / without: ${(on / off).toFixed(2)} (${on.toFixed(2)} s / ${off.toFixed(2)} s; goal ≤ 1.5); failures ${failures} (goal 0); ${cached.toLocaleString('en')} credentials cached.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv.includes('--clients')) await clientMain();
else await main();
