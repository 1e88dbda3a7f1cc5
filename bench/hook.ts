/**
 * Broker hooks and the Mosquitto sync. Run: npm run bench:hook
 *
 * 1. Throughput and latency of `POST /api/v1/hooks/emqx/authz` with the exact body EMQX sends, against an empty
 *    Fastify POST route answering the same JSON for the same body: each server runs alone in a child process
 *    (one core), the load generator (autocannon, c = BENCH_CONNECTIONS, default 100) in this process (the other
 *    core). Rounds alternate so drifting background load weighs on both alike. For attribution the Warden child
 *    also serves a no-op public POST through the same app (session cookie plugin, access guard, request ids), and
 *    the hook's latency is measured again at c = 10. Goals: ratio ≥ 0.8, ≥ 20,000 req/s, p99 < 5 ms.
 * 2. Revocation latency through the Mosquitto dynsec sync: a connected user is deactivated through the users
 *    service; the time until its mqtt.js client sees the disconnect, over BENCH_REVOCATIONS runs (default 100).
 *    Goal p99 ≤ 1 s. Needs `mosquitto` and `mosquitto_ctrl` (skipped with a note otherwise).
 *
 * Prints the Markdown for docs/performance.md. BENCH_SECONDS (default 10) per measurement, split in rounds.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import mqtt from 'mqtt';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { systemClock } from '../src/core/clock.js';
import { PasswordHasher } from '../src/core/crypto/password-hasher.js';
import { DomainEventBus } from '../src/core/events.js';
import { migrateToLatest, openDatabase } from '../src/db/database.js';
import { CLI_CONTEXT } from '../src/modules/permissions/operation-context.js';
import { createServices, type Services, startServices } from '../src/services.js';
import {
  alternatingRounds,
  forkServer,
  type LoadResult,
  type LoadTarget,
  load,
  rate,
  type Side,
} from './lib/http-load.js';
import { fmt, machineLine, percentile } from './lib/stats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 100);
const ROUNDS = 4;
const PASSWORD = 'Bench-Passw0rd!';
/**
 * The body EMQX's HTTP authz source sends (docs/broker-protocols.md#emqx-http-authorization): every value a
 * string.
 */
const AUTHZ_BODY = JSON.stringify({
  username: 'dev-1',
  clientid: 'dev-1-a',
  topic: 'dt/dev-1/t42/up',
  action: 'publish',
  qos: '1',
  retain: 'false',
});
/** Cheap argon2 for fixtures: logins are not what is measured here. */
const FAST_HASH = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

/** Warden's services on a fresh SQLite database in a temp dir. */
async function openWarden(): Promise<{
  services: Services;
  /** What `warden serve` starts: followers, live enforcement, the broker integrations. */
  start(): Promise<void>;
  close(): Promise<void>;
}> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-bench-hook-'));
  const handle = openDatabase({ databaseUrl: null, dataDir: dir });
  await migrateToLatest(handle.db);
  const services = createServices({
    db: handle.db,
    engine: handle.engine,
    clock: systemClock,
    hasher: new PasswordHasher({ params: FAST_HASH }),
    events: new DomainEventBus(),
    secretKey: 'bench-secret-key-bench-secret-key!',
  });
  await services.accessRoles.create(CLI_CONTEXT, {
    name: 'sensor',
    rules: [
      { permission: 'deny', action: 'all', topic: 'dt/${username}/secret/#' },
      { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up', qos: [0, 1] },
      { permission: 'allow', action: 'subscribe', topic: 'cmd/${clientid}/#' },
    ],
  });
  await services.users.create(CLI_CONTEXT, {
    username: 'dev-1',
    password: PASSWORD,
    role: 'viewer',
    kind: 'device',
    accessRoles: ['sensor'],
  });
  let stopServices: (() => Promise<void>) | null = null;
  return {
    services,
    start: async () => {
      stopServices = await startServices(services, { logger: pino({ level: 'silent' }) });
    },
    close: async () => {
      await stopServices?.();
      await handle.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Child mode: serves the hook (`warden`) or the empty route (`empty`) on a free port until SIGTERM. */
async function serve(kind: 'warden' | 'empty'): Promise<void> {
  let stop: () => Promise<void>;
  let listen: () => Promise<number>;
  if (kind === 'warden') {
    const warden = await openWarden();
    await warden.services.brokers.create(CLI_CONTEXT, { name: 'emqx', kind: 'emqx', config: {} });
    await warden.start();
    const app = await buildApp({ services: warden.services, logger: false });
    // The same app's cheapest POST: what every Warden request costs before any hook code runs.
    app.post('/bench/noop', { config: { access: { kind: 'public' } } }, async () => ({ result: 'allow' }));
    listen = async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      return (app.server.address() as net.AddressInfo).port;
    };
    stop = async () => {
      await app.close();
      await warden.close();
    };
  } else {
    const app = Fastify({ logger: false });
    app.post('/bench', async () => ({ result: 'allow' }));
    listen = async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      return (app.server.address() as net.AddressInfo).port;
    };
    stop = () => app.close();
  }
  process.send?.({ port: await listen() });
  process.once('SIGTERM', () => {
    void stop().finally(() => process.exit(0));
  });
}

async function hookThroughput(): Promise<{
  sides: Record<Target, Side>;
  answer: string;
  lowConcurrency: LoadResult;
}> {
  const script = fileURLToPath(import.meta.url);
  const warden = await forkServer(script, 'warden');
  const empty = await forkServer(script, 'empty');
  const post = (url: string): LoadTarget => ({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: AUTHZ_BODY,
  });
  const targets: Record<Target, LoadTarget> = {
    hook: post(`http://127.0.0.1:${warden.message.port}/api/v1/hooks/emqx/authz`),
    noop: post(`http://127.0.0.1:${warden.message.port}/bench/noop`),
    empty: post(`http://127.0.0.1:${empty.message.port}/bench`),
  };
  try {
    const answer = await (
      await fetch(targets.hook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: AUTHZ_BODY,
      })
    ).text();
    // Warm-up included: JIT on every side, the user's compiled rules in Warden's cache.
    const sides = await alternatingRounds(targets, {
      seconds: SECONDS,
      rounds: ROUNDS,
      connections: CONNECTIONS,
    });
    const lowConcurrency = await load(targets.hook, SECONDS / ROUNDS, 10);
    return { sides, answer, lowConcurrency };
  } finally {
    warden.process.kill('SIGTERM');
    empty.process.kill('SIGTERM');
  }
}

type Target = 'hook' | 'noop' | 'empty';

function onPath(binary: string): boolean {
  try {
    execFileSync('which', [binary], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A private Mosquitto with dynamic security (same recipe as test/helpers/mosquitto.ts). */
async function startMosquitto(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-bench-mosquitto-'));
  fs.chmodSync(dir, 0o777);
  const file = path.join(dir, 'dynamic-security.json');
  execFileSync('mosquitto_ctrl', ['dynsec', 'init', file, 'dynsec-admin', 'Dynsec-Adm1n!'], {
    stdio: 'ignore',
  });
  fs.chmodSync(file, 0o666);
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(
    conf,
    `per_listener_settings false\nlistener ${port} 127.0.0.1\nallow_anonymous false\nplugin ${PLUGIN}\nplugin_opt_config_file ${file}\npersistence false\nlog_dest none\n`,
  );
  const broker = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => broker.once('exit', () => resolve()));
  for (let attempt = 0; ; attempt += 1) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) break;
    if (attempt > 200) throw new Error('mosquitto did not start');
    await sleep(25);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => {
      broker.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Deactivation → disconnect, through the dynsec sync: one sample per run, in milliseconds. */
async function revocationLatency(): Promise<number[] | null> {
  if (!fs.existsSync(PLUGIN) || !onPath('mosquitto') || !onPath('mosquitto_ctrl')) return null;
  const mosquitto = await startMosquitto();
  const warden = await openWarden();
  const { services } = warden;
  try {
    await services.brokers.create(CLI_CONTEXT, {
      name: 'mosquitto',
      kind: 'mosquitto',
      config: { url: mosquitto.url, adminUsername: 'dynsec-admin', adminPassword: 'Dynsec-Adm1n!' },
    });
    await warden.start();
    for (let attempt = 0; !(await services.brokers.status('mosquitto')).lastSyncAt; attempt += 1) {
      if (attempt > 400) throw new Error('the first Mosquitto sync did not finish');
      await sleep(25);
    }
    // The password was set before the integration existed: set it again so it reaches Mosquitto.
    await services.users.setPassword(CLI_CONTEXT, 'dev-1', PASSWORD);
    await services.brokers.idle();
    const samples: number[] = [];
    for (let run = 0; run < REVOCATIONS; run += 1) {
      const client = await mqtt.connectAsync(mosquitto.url, {
        username: 'dev-1',
        password: PASSWORD,
        clientId: `dev-1-${run}`,
        reconnectPeriod: 0,
        protocolVersion: 5,
      });
      const closed = new Promise<number>((resolve) => client.once('close', () => resolve(performance.now())));
      const start = performance.now();
      await services.users.deactivate(CLI_CONTEXT, 'dev-1');
      samples.push((await closed) - start);
      client.end(true);
      await services.users.reactivate(CLI_CONTEXT, 'dev-1');
      await services.brokers.idle();
    }
    return samples;
  } finally {
    await warden.close();
    await mosquitto.stop();
  }
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()[0] ?? 0;
  const { sides, answer, lowConcurrency } = await hookThroughput();
  if (answer !== '{"result":"allow"}') throw new Error(`unexpected hook answer ${answer}`);
  const { hook, noop, empty } = sides;
  const ratio = rate(hook) / rate(empty);
  const worst = (values: number[]): number => Math.max(...values);
  const median = (values: number[]): number => percentile(values, 50);
  const revocations = await revocationLatency();
  const met = (ok: boolean): string => (ok ? 'met' : '**missed**');
  const lines = [
    `Machine: ${machineLine()}; load average before the run ${loadBefore.toFixed(1)}.`,
    `Hook: ${SECONDS} s per target in ${ROUNDS} alternating rounds, autocannon c=${CONNECTIONS} in the parent process, each server alone in a child process, SQLite, Fastify logging off everywhere.`,
    '',
    '| measurement | result | goal |',
    '|---|---:|---|',
    `| empty Fastify POST (same body, \`{"result":"allow"}\`), req/s | ${rate(empty).toFixed(0)} | |`,
    `| Warden app, no-op public POST (same body and answer), req/s | ${rate(noop).toFixed(0)} (${(rate(noop) / rate(empty)).toFixed(2)} × empty) | |`,
    `| \`POST /api/v1/hooks/emqx/authz\` (EMQX body, admitted by address, rule engine allows), req/s | ${rate(hook).toFixed(0)} (${(rate(hook) / rate(noop)).toFixed(2)} × no-op) | ≥ 20,000: ${met(rate(hook) >= 20_000)} |`,
    `| ratio hook / empty Fastify | ${ratio.toFixed(2)} | ≥ 0.8: ${met(ratio >= 0.8)} |`,
    `| hook latency at c=${CONNECTIONS}, p50 / p99 (ms; median / worst of the rounds' percentiles) | ${fmt(median(hook.p50))} / ${fmt(worst(hook.p99))} | p99 < 5: ${met(worst(hook.p99) < 5)} |`,
    `| empty route latency at c=${CONNECTIONS}, p50 / p99 (ms) | ${fmt(median(empty.p50))} / ${fmt(worst(empty.p99))} | |`,
    `| hook latency at c=10, p50 / p99 (ms), ${(lowConcurrency.requests / lowConcurrency.seconds).toFixed(0)} req/s | ${fmt(lowConcurrency.latencies.p50)} / ${fmt(lowConcurrency.latencies.p99)} | |`,
    `| non-2xx or errors (hook / no-op / empty) | ${hook.bad + lowConcurrency.non2xx + lowConcurrency.errors} / ${noop.bad} / ${empty.bad} | 0 |`,
  ];
  if (revocations) {
    lines.push(
      `| revocation through the Mosquitto sync: deactivate → client sees the disconnect, p50 / p99 / max (ms), ${revocations.length} runs | ${fmt(percentile(revocations, 50))} / ${fmt(percentile(revocations, 99))} / ${fmt(Math.max(...revocations))} | p99 ≤ 1000: ${met(percentile(revocations, 99) <= 1000)} |`,
    );
  } else {
    lines.push(
      '| revocation through the Mosquitto sync | not measured: mosquitto / mosquitto_ctrl not installed | p99 ≤ 1000 |',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

const [mode, kind] = process.argv.slice(2);
if (mode === '--serve') await serve(kind === 'empty' ? 'empty' : 'warden');
else await main();
