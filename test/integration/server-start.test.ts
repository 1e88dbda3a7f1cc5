import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { startServer } from '../../src/server.js';

describe('starting Warden', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  function config(extra: Record<string, string> = {}) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-start-'));
    dirs.push(dataDir);
    return loadConfig({
      WARDEN_DATA_DIR: dataDir,
      WARDEN_HTTP_PORT: '0',
      WARDEN_HTTP_HOST: '127.0.0.1',
      WARDEN_MQTT_PORT: '0',
      WARDEN_LOG_LEVEL: 'silent',
      ...extra,
    });
  }

  it('creates root once with a generated password; a restart neither recreates it nor prints again', async () => {
    const cfg = config();
    const first = await startServer(cfg);
    expect(first.root).toMatchObject({ created: true, username: 'admin' });
    const password = first.root.created ? first.root.generatedPassword : null;
    expect(password?.length).toBeGreaterThanOrEqual(20);
    const login = await fetch(`${first.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    expect(((await login.json()) as { next: string | null }).next).toBe('password_change');
    await first.close();

    const second = await startServer(cfg);
    expect(second.root).toEqual({ created: false });
    expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    await second.close();
    expect(fs.statSync(path.join(cfg.dataDir, 'warden.db')).isFile()).toBe(true);
  });

  it('uses WARDEN_ADMIN_PASSWORD when set, without a must-change flag', async () => {
    const server = await startServer(config({ WARDEN_ADMIN_PASSWORD: 'Chosen-Passw0rd!' }));
    try {
      expect(server.root).toEqual({ created: true, username: 'admin', generatedPassword: null });
      const login = await fetch(`${server.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'Chosen-Passw0rd!' }),
      });
      expect(((await login.json()) as { next: string | null }).next).toBeNull();
    } finally {
      await server.close();
    }
  });

  it('names the variable when the HTTP port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startServer(config({ WARDEN_HTTP_PORT: String(port) }))).rejects.toThrow(
        /WARDEN_HTTP_PORT/,
      );
    } finally {
      blocker.close();
    }
  });

  it('moves the unconfigured default MQTT port to a free one when taken, but not a configured one', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      // An empty WARDEN_MQTT_PORT counts as unset: the default applies (here pointed at the taken port).
      const fallback = await startServer({
        ...config({ WARDEN_MQTT_PORT: '', WARDEN_MQTT_HOST: '127.0.0.1' }),
        mqttPort: port,
      });
      try {
        expect(fallback.broker?.url).toMatch(/^mqtt:\/\/.+:\d+$/);
        expect(fallback.broker?.url).not.toContain(`:${port}`);
      } finally {
        await fallback.close();
      }
      await expect(
        startServer(config({ WARDEN_MQTT_PORT: String(port), WARDEN_MQTT_HOST: '127.0.0.1' })),
      ).rejects.toThrow(/WARDEN_MQTT_PORT/);
    } finally {
      blocker.close();
    }
  });

  it('refuses invalid configuration, naming the variable', () => {
    for (const [env, variable] of [
      [{ WARDEN_HTTP_PORT: 'eighty' }, 'WARDEN_HTTP_PORT'],
      [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
      [{ WARDEN_LOG_LEVEL: 'loud' }, 'WARDEN_LOG_LEVEL'],
      [{ WARDEN_SECRET_KEY: 'short' }, 'WARDEN_SECRET_KEY'],
      [{ WARDEN_MQTTS_PORT: '8883' }, 'WARDEN_MQTTS_PORT'],
      [{ WARDEN_REDIS_URL: 'http://127.0.0.1:6379' }, 'WARDEN_REDIS_URL'],
      [{ WARDEN_REDIS_PREFIX: 'a/b' }, 'WARDEN_REDIS_PREFIX'],
      [{ WARDEN_METRICS_ALLOW_FROM: '10.0.0.0/8,10.0.0.0/33' }, 'WARDEN_METRICS_ALLOW_FROM'],
    ] as const) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(variable);
    }
  });

  it('WARDEN_REDIS_URL is a redis:// or rediss:// URL, or unset; a bad one is refused naming the variable, without echoing it', () => {
    expect(loadConfig({}).redisUrl).toBeNull();
    expect(loadConfig({ WARDEN_REDIS_URL: '' }).redisUrl).toBeNull();
    expect(loadConfig({ WARDEN_REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).toBe(
      'redis://127.0.0.1:6379',
    );
    expect(loadConfig({ WARDEN_REDIS_URL: 'rediss://:pw@cache.example:6380/2' }).redisUrl).toBe(
      'rediss://:pw@cache.example:6380/2',
    );
    for (const value of ['127.0.0.1:6379', 'http://127.0.0.1:6379', 'redis://', 'not a url s3cret']) {
      const load = () => loadConfig({ WARDEN_REDIS_URL: value });
      expect(load, value).toThrow(ConfigError);
      expect(load, value).toThrow('WARDEN_REDIS_URL: must be a redis:// or rediss:// URL');
      expect(load, value).not.toThrow('s3cret');
    }
  });

  it('WARDEN_METRICS_ALLOW_FROM is empty by default and takes comma-separated CIDRs and addresses', () => {
    expect(loadConfig({}).metricsAllowFrom).toEqual([]);
    expect(
      loadConfig({ WARDEN_METRICS_ALLOW_FROM: ' 10.0.5.0/24, ::1 ,192.0.2.9' }).metricsAllowFrom,
    ).toEqual(['10.0.5.0/24', '::1', '192.0.2.9']);
    expect(() => loadConfig({ WARDEN_METRICS_ALLOW_FROM: 'prometheus.local' })).toThrow(
      'WARDEN_METRICS_ALLOW_FROM: not a CIDR or address: prometheus.local',
    );
  });

  it('WARDEN_REDIS_PREFIX defaults to warden and takes only characters safe in keys, channels and patterns', () => {
    expect(loadConfig({}).redisPrefix).toBe('warden');
    expect(loadConfig({ WARDEN_REDIS_PREFIX: 'plant-7:prod.v2_a' }).redisPrefix).toBe('plant-7:prod.v2_a');
    for (const value of ['a/b', 'a+', '#', 'a*', 'a?', '[a]', 'a b', 'x'.repeat(65)]) {
      const load = () => loadConfig({ WARDEN_REDIS_PREFIX: value });
      expect(load, value).toThrow(ConfigError);
      expect(load, value).toThrow('WARDEN_REDIS_PREFIX: must be 1-64 characters');
    }
  });
});
