/**
 * API key vs session: the same `GET /api/v1/users?pageSize=25` against a real listening server (a child process
 * on a free port, SQLite in a temp dir, 100 users), once with `Authorization: Bearer wdn_…` and once with the
 * session cookie of the same admin, in alternating rounds so that load from elsewhere on the machine weighs on
 * both alike. Goal: requests/s with the key ≥ 0.95 × with the session. Run: npm run bench:api-key
 *
 * Prints the Markdown for docs/performance.md. BENCH_SECONDS (default 20, split over the rounds of each side),
 * BENCH_CONNECTIONS (default 20).
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { buildApp } from '../src/app.js';
import { CLI_CONTEXT } from '../src/modules/permissions/operation-context.js';
import { FAST_HASH, openServicesAt } from './lib/services.js';
import { fmt, machineLine } from './lib/stats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const ROUNDS = 5;
const USERS = 100;
const PASSWORD = 'Bench-Passw0rd!';
const ROUTE = '/api/v1/users?pageSize=25';

interface Credentials {
  readonly port: number;
  readonly cookie: string;
  readonly key: string;
  /** Mean µs of one resolution without HTTP, measured in the server process before it listens. */
  readonly resolveUs: { readonly key: number; readonly session: number };
}

const RESOLVE_CALLS = 20_000;

/** Mean µs per call of `fn`, over `RESOLVE_CALLS` calls in alternating rounds with the other side. */
async function meanUs(fns: { key: () => Promise<unknown>; session: () => Promise<unknown> }) {
  const total = { key: 0, session: 0 };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const side of ['key', 'session'] as const) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < RESOLVE_CALLS / ROUNDS; i += 1) await fns[side]();
      total[side] += Number(process.hrtime.bigint() - start) / 1e3;
    }
  }
  return { key: total.key / RESOLVE_CALLS, session: total.session / RESOLVE_CALLS };
}

interface Side {
  requests: number;
  seconds: number;
  p50s: number[];
  p99s: number[];
  non2xx: number;
}

/** The child: a real server with the users, one admin signed in, and an API key of that admin. */
async function serve(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-bench-api-key-'));
  // Cheap parameters: only the fixtures and the one login hash; the measured route verifies no password.
  const { services, close } = await openServicesAt(dir, 'bench-secret-key-bench-secret-key!', FAST_HASH);
  await services.users.create(CLI_CONTEXT, { username: 'bench-admin', password: PASSWORD, role: 'admin' });
  for (let i = 0; i < USERS - 1; i += 1) {
    await services.users.create(CLI_CONTEXT, { username: `bench${i}`, password: PASSWORD, role: 'viewer' });
  }
  const login = await services.auth.login(
    { ip: '127.0.0.1', userAgent: 'bench' },
    'bench',
    'bench-admin',
    PASSWORD,
  );
  const created = await services.apiKeys.create(CLI_CONTEXT, {
    name: 'bench',
    owner: 'bench-admin',
    role: 'admin',
    scopes: ['user_management'],
  });
  // What the access guard calls for each credential, without HTTP around it.
  const resolveUs = await meanUs({
    key: () => services.apiKeys.authenticate(created.key, '127.0.0.1'),
    session: () => services.sessions.resolve(login.token),
  });
  const app = await buildApp({ services, logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.send?.({
    port: typeof address === 'object' && address ? address.port : 0,
    cookie: `warden_session=${login.token}`,
    key: created.key,
    resolveUs,
  } satisfies Credentials);
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(close)
      .finally(() => {
        fs.rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
  });
}

function load(url: string, headers: Record<string, string>, seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url, headers, connections: CONNECTIONS, duration: seconds }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}

function add(side: Side, result: autocannon.Result): void {
  side.requests += result.requests.total;
  side.seconds += result.duration;
  side.p50s.push(result.latency.p50);
  side.p99s.push(result.latency.p99);
  side.non2xx += result.non2xx + result.errors + result.timeouts;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function main(): Promise<void> {
  const loadBefore = os.loadavg()[0] ?? 0;
  const server = fork(fileURLToPath(import.meta.url), ['--serve'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const credentials = await new Promise<Credentials>((resolve, reject) => {
    (server as ChildProcess).once('message', (value) => resolve(value as Credentials));
    server.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  try {
    const url = `http://127.0.0.1:${credentials.port}${ROUTE}`;
    const withKey = { authorization: `Bearer ${credentials.key}` };
    const withSession = { cookie: credentials.cookie };
    // Warm-up: JIT and SQLite's page cache, for both paths.
    await load(url, withKey, 2);
    await load(url, withSession, 2);
    const key: Side = { requests: 0, seconds: 0, p50s: [], p99s: [], non2xx: 0 };
    const session: Side = { requests: 0, seconds: 0, p50s: [], p99s: [], non2xx: 0 };
    const round = Math.max(1, Math.round(SECONDS / ROUNDS));
    for (let i = 0; i < ROUNDS; i += 1) {
      // Alternate which side goes first, so neither always follows the other's garbage.
      const order = i % 2 === 0 ? ([key, session] as const) : ([session, key] as const);
      for (const side of order) add(side, await load(url, side === key ? withKey : withSession, round));
    }
    if (key.non2xx + session.non2xx > 0) {
      throw new Error(`non-2xx answers: key ${key.non2xx}, session ${session.non2xx}`);
    }
    const rate = (side: Side) => side.requests / side.seconds;
    const row = (label: string, side: Side) =>
      `| ${label} | ${rate(side).toFixed(0)} | ${fmt(median(side.p50s))} / ${fmt(median(side.p99s))} |`;
    const lines = [
      `Machine: ${machineLine()}; 1-minute load average ${loadBefore.toFixed(1)} before the run, ${(os.loadavg()[0] ?? 0).toFixed(1)} after.`,
      `\`GET ${ROUTE}\` (${USERS} users), autocannon c=${CONNECTIONS} in the parent process, the server alone in a child process, SQLite; ${ROUNDS} alternating rounds of ${round} s per side.`,
      '',
      '| credential | requests/s | latency p50 / p99 (ms, median of rounds) |',
      '|---|---:|---:|',
      row('session cookie', session),
      row('API key (`Authorization: Bearer`)', key),
      '',
      `Ratio API key / session: **${(rate(key) / rate(session)).toFixed(2)}** (goal ≥ 0.95).`,
      '',
      `Resolving the credential alone (what the access guard calls, no HTTP; ${RESOLVE_CALLS} calls each in alternating rounds, in the server process): API key ${credentials.resolveUs.key.toFixed(1)} µs, session ${credentials.resolveUs.session.toFixed(1)} µs per request.`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    server.kill('SIGTERM');
  }
}

if (process.argv[2] === '--serve') await serve();
else await main();
