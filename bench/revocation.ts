/**
 * Live revocation latency on the embedded broker: from the moment a change is requested from the service
 * (which commits it, then emits the domain event) until the broker has enforced it —
 *  - deactivation: the mqtt.js client sees its connection closed;
 *  - rule removal: the subscription the removed rule allowed is gone from the connection.
 * 1,000 revocations by default (half of each kind), one at a time. Run: npm run bench:revocation
 */
import type { MqttClient } from 'mqtt';
import mqtt from 'mqtt';
import { CLI_CONTEXT } from '../src/modules/permissions/operation-context.js';
import type { Services } from '../src/services.js';
import { createRole, DEVICE_PASSWORD, seedDevices, startWardenBroker } from './lib/mqtt-fixture.js';
import { openBenchServices } from './lib/services.js';
import { fmt, machineLine, percentile } from './lib/stats.js';

const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 1_000);
/** Connected bystanders (other users, other roles) so that enforcement works among live traffic. */
const BYSTANDERS = Number(process.env.BENCH_BYSTANDERS ?? 200);
/** Cheap argon2 for the fixtures: authentication is not what is measured here. */
const FIXTURE_HASH = { params: { memoryCost: 1024, timeCost: 1, parallelism: 1 } };

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function connect(url: string, username: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    username,
    password: DEVICE_PASSWORD,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
}

/** Resolves as soon as `done()` holds, checking after every turn of the event loop (no sleep granularity). */
function whenTrue(done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (done()) resolve();
      else setImmediate(check);
    };
    check();
  });
}

async function deactivations(services: Services, url: string, run: string, count: number): Promise<number[]> {
  const users = await seedDevices(services, { prefix: `gone-${run}`, count, accessRoles: ['device'] });
  const samples: number[] = [];
  for (const username of users) {
    const client = await connect(url, username);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const start = process.hrtime.bigint();
    await services.users.deactivate(CLI_CONTEXT, username);
    await closed;
    samples.push(elapsedMs(start));
  }
  return samples;
}

async function ruleRemovals(services: Services, url: string, run: string, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const role = `watch-${run}-${i}`;
    await createRole(services, {
      name: role,
      rules: [
        { permission: 'allow', action: 'subscribe', topic: `plant/${i}/a/#` },
        { permission: 'allow', action: 'subscribe', topic: `plant/${i}/b/#` },
      ],
    });
    const [username] = await seedDevices(services, {
      prefix: `watcher-${run}-${i}`,
      count: 1,
      accessRoles: [role],
    });
    const client = await connect(url, username as string);
    await client.subscribeAsync([`plant/${i}/a/#`, `plant/${i}/b/#`]);
    const [connection] = services.mqttConnections.ofUser(username as string);
    const start = process.hrtime.bigint();
    await services.accessRoles.update(CLI_CONTEXT, role, {
      rules: [{ permission: 'allow', action: 'subscribe', topic: `plant/${i}/b/#` }],
    });
    await whenTrue(() => connection?.subscriptions().has(`plant/${i}/a/#`) === false);
    samples.push(elapsedMs(start));
    await client.endAsync();
  }
  return samples;
}

function row(kind: string, samples: number[]): string {
  const p = (q: number): string => fmt(percentile(samples, q));
  return `| ${kind} | ${samples.length} | ${p(50)} | ${p(95)} | ${p(99)} | ${fmt(Math.max(...samples))} |`;
}

const { services, close } = await openBenchServices(FIXTURE_HASH);
await createRole(services, {
  name: 'device',
  rules: [
    { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up' },
    { permission: 'allow', action: 'subscribe', topic: 'dt/#' },
  ],
});
const broker = await startWardenBroker(services);
const url = broker.url as string;
const bystanders = await Promise.all(
  (await seedDevices(services, { prefix: 'bystander', count: BYSTANDERS, accessRoles: ['device'] })).map(
    async (username) => {
      const client = await connect(url, username);
      await client.subscribeAsync('dt/#');
      return client;
    },
  ),
);
// Warm-up (JIT, prepared statements), not measured.
await deactivations(services, url, 'warmup', 20);
await ruleRemovals(services, url, 'warmup', 20);

const half = Math.floor(REVOCATIONS / 2);
const deactivated = await deactivations(services, url, 'run', half);
const removed = await ruleRemovals(services, url, 'run', REVOCATIONS - half);
await Promise.all(bystanders.map((client) => client.endAsync(true)));
await broker.close();
await close();

const all = [...deactivated, ...removed];
const lines = [
  `Machine: ${machineLine()}.`,
  `${REVOCATIONS.toLocaleString('en')} revocations one at a time, ${BYSTANDERS} other clients connected; time from the service call (commit included) to enforcement on the broker.`,
  '',
  '| revocation | n | p50 ms | p95 ms | p99 ms | max ms |',
  '|---|---:|---:|---:|---:|---:|',
  row('deactivation → connection closed', deactivated),
  row('rule removed → subscription gone', removed),
  row('all', all),
  '',
  `p99 ${fmt(percentile(all, 99))} ms (goal ≤ 100 ms).`,
];
process.stdout.write(`${lines.join('\n')}\n`);
