/**
 * Users list at scale: seeds 1,000,000 users into SQLite and PostgreSQL, then times the list endpoint's service
 * call (the same code path as GET /api/v1/users, `total` included) for page 1, page 5000, a username search and a
 * role filter. Run: npm run bench:users-list  (PostgreSQL from BENCH_POSTGRES_URL or TEST_POSTGRES_URL).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { systemClock } from '../src/core/clock.js';
import { PasswordHasher } from '../src/core/crypto/password-hasher.js';
import { DomainEventBus } from '../src/core/events.js';
import { type DatabaseHandle, type Engine, migrateToLatest, openDatabase } from '../src/db/database.js';
import { createServices } from '../src/services.js';
import { fmt, machineLine, percentile, timeRuns } from './lib/stats.js';

const USERS = Number(process.env.BENCH_USERS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 40);

/**
 * Set-based seeding (one INSERT … SELECT over a generated series) keeps a million rows to seconds. Roles are
 * 10% admin, 30% operator, 60% viewer; 5% inactive; usernames `user-0000001`… with a few word tokens to search.
 */
async function seed(handle: DatabaseHandle): Promise<void> {
  const words = `case (n % 7) when 0 then 'pump' when 1 then 'line' when 2 then 'robot' when 3 then 'press' when 4 then 'valve' when 5 then 'oven' else 'crane' end`;
  const series =
    handle.engine === 'postgres'
      ? sql.raw(`select n from generate_series(1, ${USERS}) as n`)
      : sql.raw(
          `with recursive s(n) as (select 1 union all select n + 1 from s where n < ${USERS}) select n from s`,
        );
  const pad = handle.engine === 'postgres' ? `lpad(n::text, 7, '0')` : `substr('0000000' || n, -7, 7)`;
  const uuid = handle.engine === 'postgres' ? 'md5(n::text)' : `lower(hex(randomblob(16)))`;
  await sql
    .raw(
      `insert into users (id, username, username_lower, email, email_lower, description, kind, role, scopes, active,
         protected, auth_method, password_hash, password_changed_at, must_change_password,
         session_timeout_minutes, created_at, updated_at, version)
       select ${uuid}, 'user-' || ${pad} || '-' || ${words}, 'user-' || ${pad} || '-' || ${words},
         'u' || n || '@plant' || (n % 50) || '.example', 'u' || n || '@plant' || (n % 50) || '.example', '', 'person',
         case when n % 10 = 0 then 'admin' when n % 10 < 4 then 'operator' else 'viewer' end, '[]',
         case when n % 20 = 0 then 0 else 1 end, 0, 'local', 'x', 0, 0, 0, 0, 0, 1
       from (${series.compile(handle.db).sql}) as g`,
    )
    .execute(handle.db);
  // A live system is vacuumed by autovacuum; do it once here so the planner sees a settled table.
  if (handle.engine === 'postgres') await sql`vacuum analyze users`.execute(handle.db);
  else await sql`analyze`.execute(handle.db);
}

async function open(engine: Engine): Promise<{ handle: DatabaseHandle; cleanup: () => Promise<void> }> {
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-bench-'));
    const handle = openDatabase({ databaseUrl: null, dataDir: dir });
    return {
      handle,
      cleanup: async () => {
        await handle.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url =
    process.env.BENCH_POSTGRES_URL ??
    process.env.TEST_POSTGRES_URL ??
    'postgres://postgres@127.0.0.1:5432/test';
  const schema = `warden_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const handle = openDatabase({ databaseUrl: url, dataDir: os.tmpdir(), searchPath: schema });
  return {
    handle,
    cleanup: async () => {
      await handle.close();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

interface Row {
  engine: Engine;
  query: string;
  p50: number;
  p95: number;
  total: number;
}

async function benchEngine(engine: Engine): Promise<Row[]> {
  const { handle, cleanup } = await open(engine);
  try {
    await migrateToLatest(handle.db);
    const seedStart = Date.now();
    await seed(handle);
    process.stderr.write(
      `${engine}: seeded ${USERS} users in ${((Date.now() - seedStart) / 1000).toFixed(1)} s\n`,
    );
    const { users } = createServices({
      db: handle.db,
      engine: handle.engine,
      clock: systemClock,
      hasher: new PasswordHasher(),
      events: new DomainEventBus(),
      secretKey: 'bench-secret-key-bench-secret-key!',
    });
    const queries: Array<[string, Parameters<typeof users.list>[0]]> = [
      ['page 1', { page: 1, pageSize: 25 }],
      ['page 5000', { page: 5000, pageSize: 25 }],
      ['search "0123"', { search: '0123', page: 1, pageSize: 25 }],
      ['role = operator', { role: 'operator', page: 1, pageSize: 25 }],
    ];
    const rows: Row[] = [];
    for (const [name, query] of queries) {
      let total = 0;
      const samples = await timeRuns(async () => {
        total = (await users.list(query)).total;
      }, RUNS);
      rows.push({ engine, query: name, p50: percentile(samples, 50), p95: percentile(samples, 95), total });
    }
    return rows;
  } finally {
    await cleanup();
  }
}

const rows = [...(await benchEngine('sqlite')), ...(await benchEngine('postgres'))];
const lines = [
  `Machine: ${machineLine()}. ${USERS.toLocaleString('en')} users, ${RUNS} timed runs per query after 3 warm-up runs.`,
  '',
  '| engine | query | total | p50 ms | p95 ms |',
  '|---|---|---:|---:|---:|',
  ...rows.map(
    (r) => `| ${r.engine} | ${r.query} | ${r.total.toLocaleString('en')} | ${fmt(r.p50)} | ${fmt(r.p95)} |`,
  ),
  '',
  ...(['sqlite', 'postgres'] as const).map((engine) => {
    const first = rows.find((r) => r.engine === engine && r.query === 'page 1');
    const deep = rows.find((r) => r.engine === engine && r.query === 'page 5000');
    return `${engine}: deep page / page 1 (p95) = ${first && deep ? (deep.p95 / first.p95).toFixed(2) : 'n/a'}`;
  }),
];
process.stdout.write(`${lines.join('\n')}\n`);
