import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCliCaptured } from '../helpers/cli.js';
import { startWarden, type WardenProcess } from '../helpers/warden-process.js';

/**
 * A change made with the CLI reaches the running server through the change feed (SQLite: the server polls it),
 * exactly as a change made through its own API does: live MQTT connections close, the next CONNECT is refused,
 * decisions and logins follow — no restart, no stale cache.
 */
const ADMIN_PASSWORD = 'Root-Passw0rd!';
const DEVICE_PASSWORD = 'Str0ng!Passw0rd';

/** Polls until `check` passes (no fixed sleeps); fails with its last error after `ms`. */
const until = (check: () => void | Promise<void>, ms = 10_000): Promise<void> =>
  vi.waitFor(check, { timeout: ms, interval: 20 });

/** A CONNECT's outcome: connected, or the CONNACK return code of the refusal. */
async function connectOutcome(
  url: string,
  username: string,
  password: string,
): Promise<'connected' | number> {
  const client = mqtt.connect(url, {
    username,
    password,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
  try {
    return await new Promise((resolve, reject) => {
      client.once('connect', () => resolve('connected'));
      client.once('error', (error) => {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'number') resolve(code);
        else reject(error);
      });
    });
  } finally {
    client.end(true);
  }
}

describe('the CLI and a running server on one SQLite database', () => {
  let dataDir: string;
  let server: WardenProcess;
  let env: Record<string, string>;
  /** A device created with the CLI and connected to the server's broker, and a promise of its connection's end. */
  const connectedDevice = async (username: string): Promise<{ closed: Promise<void> }> => {
    await cli(
      ['users', 'create', username, '--role', 'viewer', '--kind', 'device', '--password-stdin'],
      DEVICE_PASSWORD,
    );
    const client = await mqtt.connectAsync(server.mqttUrl as string, {
      username,
      password: DEVICE_PASSWORD,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    return { closed: new Promise<void>((resolve) => client.once('close', () => resolve())) };
  };
  const cli = async (args: string[], stdin?: string): Promise<string> => {
    const result = await runCliCaptured(env, args, stdin === undefined ? {} : { stdin });
    if (result.code !== 0) throw new Error(`warden ${args.join(' ')}: ${result.code} ${result.err}`);
    return result.out;
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-cli-server-'));
    env = { WARDEN_DATA_DIR: dataDir, WARDEN_ADMIN_PASSWORD: ADMIN_PASSWORD, WARDEN_LOG_LEVEL: 'silent' };
    server = await startWarden(env);
  });
  afterAll(async () => {
    await server?.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a deactivation with the CLI closes the live connection and refuses the next CONNECT', async () => {
    const broker = server.mqttUrl as string;
    const { closed } = await connectedDevice('dev9');
    const started = Date.now();
    await cli(['users', 'deactivate', 'dev9']);
    await closed;
    const closedAfter = Date.now() - started;
    // Not from the credential cache, which still knows the password it verified a moment ago.
    expect(await connectOutcome(broker, 'dev9', DEVICE_PASSWORD)).not.toBe('connected');
    console.log(`CLI deactivation → live connection closed after ${closedAfter} ms`);
  });

  it('a password reset with the CLI closes the connection; only the new password works', async () => {
    const broker = server.mqttUrl as string;
    const { closed } = await connectedDevice('dev10');
    await cli(['users', 'passwd', 'dev10', '--password-stdin'], 'N3w!Str0ngPassw0rd');
    await closed;
    expect(await connectOutcome(broker, 'dev10', DEVICE_PASSWORD)).toBe(4);
    expect(await connectOutcome(broker, 'dev10', 'N3w!Str0ngPassw0rd')).toBe('connected');
  });

  it('a rule changed with the CLI decides the server’s very next explanation', async () => {
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const explain = async (): Promise<string> => {
      const response = await fetch(`${server.url}/api/v1/access/explain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify({ username: 'dev11', action: 'publish', topic: 'line/1/temp' }),
      });
      return ((await response.json()) as { decision: string }).decision;
    };
    await cli(['access-roles', 'create', 'line']);
    await cli(
      [
        'users',
        'create',
        'dev11',
        '--role',
        'viewer',
        '--kind',
        'device',
        '--access-roles',
        'line',
        '--password-stdin',
      ],
      DEVICE_PASSWORD,
    );
    // No rule yet: the server has compiled dev11's (empty) rules and denies.
    await until(async () => expect(await explain()).toBe('deny'));
    await cli([
      'access-roles',
      'add-rule',
      'line',
      '--permission',
      'allow',
      '--action',
      'publish',
      '--topic',
      'line/#',
    ]);
    await until(async () => expect(await explain()).toBe('allow'), 2_000);
  });

  it('recover-admin while the server runs: root signs in at once, even after being deactivated', async () => {
    await cli(['users', 'create', 'second', '--role', 'admin', '--password-stdin'], 'Sec0nd-Adm1n!pass');
    await cli(['users', 'deactivate', 'admin']);
    const { password } = JSON.parse(await cli(['recover-admin', '--json'])) as { password: string };
    await until(async () => {
      const login = await fetch(`${server.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
      expect(login.status).toBe(200);
    }, 2_000);
  });
});
