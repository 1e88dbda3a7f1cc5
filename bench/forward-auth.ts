/**
 * Forward-auth. Run: npm run bench:forward-auth
 *
 * Decisions per second of `GET /api/v1/forward-auth` as nginx `auth_request` sends it (X-Original-Method and
 * X-Original-URI), identified by a console session cookie and by HTTP Basic credentials answered from the
 * credential cache, against an empty Fastify GET in the same run: each server alone in a child process (one
 * core), autocannon (c = BENCH_CONNECTIONS, default 100) in this process, rounds alternating
 * (bench/lib/http-load.ts). For attribution the Warden child also serves a no-op public GET through the same app.
 * Then the p99 latency at concurrency 10. Goal: ratio ≥ 0.8.
 *
 * Prints the Markdown for docs/performance.md. BENCH_SECONDS (default 10) per target, split in rounds.
 */
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { buildApp } from '../src/app.js';
import { CLI_CONTEXT } from '../src/modules/permissions/operation-context.js';
import { alternatingRounds, forkServer, type LoadTarget, load, rate } from './lib/http-load.js';
import { FAST_HASH, openServicesAt } from './lib/services.js';
import { fmt, machineLine, percentile } from './lib/stats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const ROUNDS = 4;
const PASSWORD = 'Bench-Passw0rd!';
/** Cheap argon2 for fixtures: logins are not what is measured here. */
/** The original request nginx asks about: allowed by the third of the user's rules. */
const ORIGINAL = { 'x-original-method': 'GET', 'x-original-uri': '/grafana/d/abc123/plant-overview?orgId=1' };

interface WardenMessage {
  readonly port: number;
  readonly cookie: string;
}

/** Child mode: Warden on a fresh SQLite database (`warden`), or an empty Fastify GET (`empty`), until SIGTERM. */
async function serve(kind: 'warden' | 'empty'): Promise<void> {
  if (kind === 'empty') {
    const app = Fastify({ logger: false });
    app.get('/bench', async () => ({ username: 'alice', role: 'dashboards' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    process.send?.({ port: (app.server.address() as net.AddressInfo).port });
    process.once('SIGTERM', () => void app.close().finally(() => process.exit(0)));
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-bench-forward-auth-'));
  const { services, close } = await openServicesAt(dir, 'bench-secret-key-bench-secret-key!', FAST_HASH);
  await services.accessRoles.create(CLI_CONTEXT, {
    name: 'dashboards',
    rules: [
      { permission: 'deny', action: 'http', path: '/grafana/admin/**' },
      { permission: 'allow', action: 'http', path: '/home/${username}/**' },
      { permission: 'allow', action: 'http', methods: ['GET', 'HEAD'], path: '/grafana/**' },
      { permission: 'allow', action: 'subscribe', topic: 'plant/#' },
    ],
  });
  await services.users.create(CLI_CONTEXT, {
    username: 'alice',
    password: PASSWORD,
    role: 'viewer',
    accessRoles: ['dashboards'],
  });
  const app = await buildApp({ services, logger: false });
  // The same app's cheapest GET with the same answer: what every Warden request costs before forward-auth runs.
  app.get('/bench/noop', { config: { access: { kind: 'public' } } }, async () => ({
    username: 'alice',
    role: 'dashboards',
  }));
  const login = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: 'alice', password: PASSWORD },
  });
  const session = login.cookies.find((cookie) => cookie.name === 'warden_session');
  if (!session) throw new Error(`login failed: ${login.statusCode} ${login.body}`);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const message: WardenMessage = {
    port: (app.server.address() as net.AddressInfo).port,
    cookie: `${session.name}=${session.value}`,
  };
  process.send?.(message);
  process.once('SIGTERM', () => {
    void (async () => {
      await app.close();
      await close();
      fs.rmSync(dir, { recursive: true, force: true });
    })().finally(() => process.exit(0));
  });
}

type Target = 'session' | 'basic' | 'noop' | 'empty';

async function main(): Promise<void> {
  const loadBefore = os.loadavg()[0] ?? 0;
  const script = fileURLToPath(import.meta.url);
  const warden = await forkServer<WardenMessage>(script, 'warden');
  const empty = await forkServer(script, 'empty');
  const forwardAuth = `http://127.0.0.1:${warden.message.port}/api/v1/forward-auth`;
  const targets: Record<Target, LoadTarget> = {
    session: { url: forwardAuth, headers: { ...ORIGINAL, cookie: warden.message.cookie } },
    basic: {
      url: forwardAuth,
      headers: { ...ORIGINAL, authorization: `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}` },
    },
    noop: { url: `http://127.0.0.1:${warden.message.port}/bench/noop` },
    empty: { url: `http://127.0.0.1:${empty.message.port}/bench` },
  };
  try {
    for (const name of ['session', 'basic'] as const) {
      const answer = await fetch(targets[name].url, { headers: targets[name].headers ?? {} });
      if (answer.status !== 200 || answer.headers.get('x-warden-role') !== 'dashboards')
        throw new Error(`forward-auth with ${name} answered ${answer.status} ${await answer.text()}`);
    }
    const sides = await alternatingRounds(targets, {
      seconds: SECONDS,
      rounds: ROUNDS,
      connections: CONNECTIONS,
    });
    const low = {
      session: await load(targets.session, SECONDS / ROUNDS, 10),
      basic: await load(targets.basic, SECONDS / ROUNDS, 10),
      empty: await load(targets.empty, SECONDS / ROUNDS, 10),
    };
    const met = (ok: boolean): string => (ok ? 'met' : '**missed**');
    const median = (values: number[]): number => percentile(values, 50);
    const worst = (values: number[]): number => Math.max(...values);
    const ratio = (name: Target): number => rate(sides[name]) / rate(sides.empty);
    const bad = sides.session.bad + sides.basic.bad + sides.noop.bad + sides.empty.bad;
    const lowBad = Object.values(low).reduce((sum, result) => sum + result.non2xx + result.errors, 0);
    const lines = [
      `Machine: ${machineLine()}; load average before the run ${loadBefore.toFixed(1)}.`,
      `Forward-auth: ${SECONDS} s per target in ${ROUNDS} alternating rounds, autocannon c=${CONNECTIONS} in the parent process, each server alone in a child process, SQLite, Fastify logging off everywhere; the user holds one role of four rules, the third allows.`,
      '',
      '| measurement | result | goal |',
      '|---|---:|---|',
      `| empty Fastify GET (a JSON answer of the same size), req/s | ${rate(sides.empty).toFixed(0)} | |`,
      `| Warden app, no-op public GET (same answer, no cookie), req/s | ${rate(sides.noop).toFixed(0)} (${ratio('noop').toFixed(2)} × empty) | |`,
      `| \`GET /api/v1/forward-auth\`, session cookie, decisions/s | ${rate(sides.session).toFixed(0)} (${ratio('session').toFixed(2)} × empty) | ≥ 0.8: ${met(ratio('session') >= 0.8)} |`,
      `| \`GET /api/v1/forward-auth\`, HTTP Basic from the credential cache, decisions/s | ${rate(sides.basic).toFixed(0)} (${ratio('basic').toFixed(2)} × empty) | ≥ 0.8: ${met(ratio('basic') >= 0.8)} |`,
      `| latency at c=${CONNECTIONS}, p50 / p99 (ms; median / worst of the rounds): session · Basic · empty | ${fmt(median(sides.session.p50))} / ${fmt(worst(sides.session.p99))} · ${fmt(median(sides.basic.p50))} / ${fmt(worst(sides.basic.p99))} · ${fmt(median(sides.empty.p50))} / ${fmt(worst(sides.empty.p99))} | |`,
      `| latency at c=10, p50 / p99 (ms): session · Basic · empty | ${fmt(low.session.latencies.p50)} / ${fmt(low.session.latencies.p99)} · ${fmt(low.basic.latencies.p50)} / ${fmt(low.basic.latencies.p99)} · ${fmt(low.empty.latencies.p50)} / ${fmt(low.empty.latencies.p99)} | |`,
      `| non-2xx or errors | ${bad + lowBad} | 0 |`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    warden.process.kill('SIGTERM');
    empty.process.kill('SIGTERM');
  }
}

const [mode, kind] = process.argv.slice(2);
if (mode === '--serve') await serve(kind === 'empty' ? 'empty' : 'warden');
else await main();
