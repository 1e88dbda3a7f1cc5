import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startWarden, type WardenProcess } from './warden-process.js';

/**
 * Several `warden serve` processes on one PostgreSQL schema, as a deployment of several instances runs them
 * (docs/deployment.md): the same database, WARDEN_SECRET_KEY and WARDEN_ADMIN_PASSWORD, a distinct
 * WARDEN_INSTANCE_ID and data dir each, free ports. The schema reaches every connection of a process through
 * node-postgres' `PGOPTIONS` (`-c search_path=…`), so the server needs no test-only setting.
 */

export const ADMIN_PASSWORD = 'Root-Passw0rd!';
/** Generous: several processes compile TypeScript at once on a small machine. */
const START_TIMEOUT_MS = 120_000;

export interface Instance extends WardenProcess {
  /** Its WARDEN_INSTANCE_ID. */
  readonly instance: string;
  /** The embedded broker, `mqtt://127.0.0.1:<port>`. */
  readonly mqttUrl: string;
}

export interface Cluster {
  readonly schema: string;
  /** Every instance started so far (killed ones included). */
  readonly instances: readonly Instance[];
  /** Starts one instance; `env` adds to (or overrides) the shared environment. */
  start(instance: string, env?: Record<string, string>): Promise<Instance>;
  /** Runs a query in the cluster's schema, from the test. */
  query<Row extends object>(text: string, values?: unknown[]): Promise<Row[]>;
  /** Kills every instance, drops the schema, removes the data dirs. */
  destroy(): Promise<void>;
}

/** A fresh schema in the test PostgreSQL and the environment its instances share. */
export async function createCluster(postgresUrl: string, env: Record<string, string> = {}): Promise<Cluster> {
  const schema = `warden_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
  } finally {
    await admin.end();
  }
  const instances: Instance[] = [];
  const dataDirs: string[] = [];
  const shared: Record<string, string> = {
    DATABASE_URL: postgresUrl,
    PGOPTIONS: `-c search_path=${schema}`,
    WARDEN_SECRET_KEY: randomBytes(32).toString('base64url'),
    WARDEN_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ...env,
  };
  return {
    schema,
    instances,
    async start(instance, extra = {}) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-instance-'));
      dataDirs.push(dataDir);
      const started = await startWarden(
        { ...shared, ...extra, WARDEN_INSTANCE_ID: instance, WARDEN_DATA_DIR: dataDir },
        START_TIMEOUT_MS,
      );
      if (!started.mqttUrl) {
        await started.kill();
        throw new Error(`${instance}: no embedded broker:\n${started.output()}`);
      }
      const member: Instance = Object.assign(started, { instance, mqttUrl: started.mqttUrl });
      instances.push(member);
      return member;
    },
    async query<Row extends object>(text: string, values: unknown[] = []): Promise<Row[]> {
      const client = new pg.Client({ connectionString: postgresUrl, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        return (await client.query<Row>(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    async destroy() {
      await Promise.all(instances.map((started) => started.kill()));
      const cleanup = new pg.Client({ connectionString: postgresUrl });
      await cleanup.connect();
      try {
        await cleanup.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await cleanup.end();
      }
      for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  /** `warden_session=…` when the response set the session cookie. */
  readonly cookie: string | null;
  readonly headers: Headers;
}

/** One HTTP request to an instance (or to a proxy in front of them), JSON in and out. */
export async function api(
  base: string,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  options: { cookie?: string | null; body?: object; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(options.body ? { 'content-type': 'application/json' } : {}),
      ...(options.cookie ? { cookie: options.cookie } : {}),
      ...options.headers,
    },
    ...(options.body ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (an nginx error page): kept as text for the failure message.
  }
  const cookie =
    response.headers
      .getSetCookie()
      .map((header) => header.split(';')[0] ?? '')
      .find((pair) => pair.startsWith('warden_session=')) ?? null;
  return { status: response.status, body, cookie, headers: response.headers };
}

/** Logs in and returns the session cookie; throws with the answer when the login is refused. */
export async function login(base: string, username: string, password: string): Promise<string> {
  const response = await api(base, 'POST', '/api/v1/auth/login', { body: { username, password } });
  if (response.status !== 200 || !response.cookie) {
    throw new Error(`login of ${username} at ${base}: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response.cookie;
}

/** Polls `check` until it passes (no fixed sleeps); rethrows its last failure after `ms`. */
export async function until<T>(check: () => T | Promise<T>, ms = 15_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }
}
