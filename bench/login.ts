/**
 * Login throughput and isolation. Run: npm run bench:login
 *
 * 1. Raw argon2id verifications per second: the parameters of docs/authentication.md#password-hashing
 *    through a `PasswordHasher` sized like the server's (one slot per core), no HTTP and no database: the
 *    ceiling for logins on this machine.
 * 2. Full `POST /api/v1/auth/login` round trips per second at the same client concurrency against a real
 *    listening server (a child process on a free port, SQLite in a temp dir): throttle, lookup, verification
 *    through the bounded pool, session, audit. Goal: ≥ 0.85 × the raw rate. 1 and 2 run in alternating rounds
 *    so that a machine shared with other work loads both alike.
 * 3. `GET /healthz` latency (p50/p99/max), probed from this process, while another process floods the server
 *    with logins far beyond the pool's queue: once with clients that honour `Retry-After` on 503, once with
 *    clients that ignore it and retry at once (an attacker). Goal: p99 ≤ 20 ms.
 *
 * Prints the Markdown for docs/performance.md. BENCH_SECONDS (default 10), BENCH_CONCURRENCY (default 2 × cores),
 * BENCH_FLOOD (default 200 concurrent logins).
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.js';
import { systemClock } from '../src/core/clock.js';
import { ARGON2_PARAMS, PasswordHasher } from '../src/core/crypto/password-hasher.js';
import { DomainEventBus } from '../src/core/events.js';
import { migrateToLatest, openDatabase } from '../src/db/database.js';
import { CLI_CONTEXT } from '../src/modules/permissions/operation-context.js';
import { createServices } from '../src/services.js';
import { fmt, machineLine, percentile } from './lib/stats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 2 * os.availableParallelism());
const FLOOD = Number(process.env.BENCH_FLOOD ?? 200);
const PASSWORD = 'Bench-Passw0rd!';
const USERS = Math.max(CONCURRENCY, FLOOD);
const ROUNDS = 5;

/** Runs `worker` in `concurrency` parallel loops until `seconds` pass; returns how many calls succeeded. */
async function loops(
  concurrency: number,
  seconds: number,
  worker: (loop: number) => Promise<boolean>,
): Promise<{ ok: number; failed: number; elapsedS: number }> {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let ok = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      while (performance.now() < deadline) {
        if (await worker(loop)) ok += 1;
        else failed += 1;
      }
    }),
  );
  return { ok, failed, elapsedS: (performance.now() - start) / 1000 };
}

/** Starts this file again as a child process in `mode`; resolves with its first IPC message. */
function child<T>(mode: string, args: string[] = []): { process: ChildProcess; message: Promise<T> } {
  const proc = fork(fileURLToPath(import.meta.url), [mode, ...args], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const message = new Promise<T>((resolve, reject) => {
    proc.once('message', (value) => resolve(value as T));
    proc.once('exit', (code) => reject(new Error(`bench ${mode} exited with ${code}`)));
  });
  return { process: proc, message };
}

async function login(url: string, username: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  await res.arrayBuffer();
  return res.status;
}

/**
 * Raw verifications and full logins measured in alternating rounds, so load from elsewhere on the machine
 * (which drifts over seconds) weighs on both sides alike; returns the rate of each.
 */
async function throughput(url: string): Promise<{ raw: number; logins: number }> {
  const hasher = new PasswordHasher();
  const stored = await hasher.hash(PASSWORD);
  const round = SECONDS / ROUNDS;
  let raw = { ok: 0, s: 0 };
  let logins = { ok: 0, s: 0 };
  for (let i = 0; i < ROUNDS; i += 1) {
    const r = await loops(CONCURRENCY, round, () => hasher.verify(stored, PASSWORD));
    raw = { ok: raw.ok + r.ok, s: raw.s + r.elapsedS };
    const l = await loops(CONCURRENCY, round, async (loop) => (await login(url, `bench${loop}`)) === 200);
    if (l.failed > 0) process.stderr.write(`logins: ${l.failed} did not answer 200\n`);
    logins = { ok: logins.ok + l.ok, s: logins.s + l.elapsedS };
  }
  return { raw: raw.ok / raw.s, logins: logins.ok / logins.s };
}

interface FloodResult {
  logins: number;
  busy: number;
}

/** The flood child: `FLOOD` login loops for `SECONDS`; `polite` clients wait out Retry-After on 503. */
async function flood(url: string, polite: boolean): Promise<void> {
  let busy = 0;
  const { ok } = await loops(FLOOD, SECONDS, async (loop) => {
    const status = await login(url, `bench${loop}`);
    if (status === 503) {
      busy += 1;
      if (polite) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    return status === 200;
  });
  process.send?.({ logins: ok, busy } satisfies FloodResult, () => process.exit(0));
}

/** /healthz round-trip times from this process, every ~10 ms until `done` resolves. */
async function probeHealth(url: string, done: Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  let running = true;
  void done.finally(() => {
    running = false;
  });
  while (running) {
    const start = performance.now();
    const res = await fetch(`${url}/healthz`);
    await res.arrayBuffer();
    samples.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return samples;
}

/** Probes /healthz while a child process floods the server with logins (after letting the flood build up). */
async function healthDuringFlood(url: string, polite: boolean): Promise<{ samples: number[] } & FloodResult> {
  const flooder = child<FloodResult>('--flood', [url, polite ? 'polite' : 'hostile']);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const samples = await probeHealth(url, flooder.message);
  return { samples, ...(await flooder.message) };
}

/** The child: a real server with `USERS` users, production argon2 and the default bounded pool. */
async function serve(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-bench-login-'));
  const handle = openDatabase({ databaseUrl: null, dataDir: dir });
  await migrateToLatest(handle.db);
  const services = createServices({
    db: handle.db,
    engine: handle.engine,
    clock: systemClock,
    hasher: new PasswordHasher(),
    events: new DomainEventBus(),
    secretKey: 'bench-secret-key-bench-secret-key!',
  });
  for (let i = 0; i < USERS; i += 1) {
    await services.users.create(CLI_CONTEXT, { username: `bench${i}`, password: PASSWORD, role: 'viewer' });
  }
  const app = await buildApp({ services, logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(() => handle.close())
      .finally(() => {
        fs.rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
  });
}

function floodRow(label: string, flood: { samples: number[] } & FloodResult): string {
  const p = (n: number): string => fmt(percentile(flood.samples, n));
  return `| \`/healthz\` p50 / p99 / max (ms) during ${FLOOD} concurrent logins, ${label}; logins done / 503s | ${p(50)} / ${p(99)} / ${fmt(Math.max(...flood.samples))}; ${flood.logins} / ${flood.busy} | p99 ≤ 20 |`;
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()[0] ?? 0;
  const server = child<{ port: number }>('--serve');
  const url = `http://127.0.0.1:${(await server.message).port}`;
  try {
    // Warm-up: JIT, SQLite page cache, the dummy hash.
    await loops(CONCURRENCY, 2, async (loop) => (await login(url, `bench${loop}`)) === 200);
    const { raw, logins } = await throughput(url);
    process.stderr.write(`raw argon2id: ${raw.toFixed(1)}/s, full logins: ${logins.toFixed(1)}/s\n`);
    const idle = await probeHealth(url, new Promise((resolve) => setTimeout(resolve, SECONDS * 1000)));
    const polite = await healthDuringFlood(url, true);
    const hostile = await healthDuringFlood(url, false);
    const lines = [
      `Machine: ${machineLine()}; load average before the run ${loadBefore.toFixed(1)}.`,
      `${SECONDS} s per measurement (throughput: ${ROUNDS} alternating rounds each), ${CONCURRENCY} concurrent clients, argon2id m=${ARGON2_PARAMS.memoryCost} KiB t=${ARGON2_PARAMS.timeCost} p=${ARGON2_PARAMS.parallelism}, SQLite.`,
      '',
      '| measurement | result | goal |',
      '|---|---:|---|',
      `| raw argon2id verifications/s (pool of ${os.availableParallelism()}) | ${raw.toFixed(1)} | |`,
      `| full \`POST /api/v1/auth/login\`/s | ${logins.toFixed(1)} | |`,
      `| ratio logins / raw | ${(logins / raw).toFixed(2)} | ≥ 0.85 |`,
      `| \`/healthz\` p50 / p99 / max (ms), no load on the server (this machine's floor) | ${fmt(percentile(idle, 50))} / ${fmt(percentile(idle, 99))} / ${fmt(Math.max(...idle))} | |`,
      floodRow('clients honour Retry-After', polite),
      floodRow('clients ignore Retry-After', hostile),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    server.process.kill('SIGTERM');
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === '--serve') await serve();
else if (mode === '--flood') await flood(args[0] as string, args[1] === 'polite');
else await main();
