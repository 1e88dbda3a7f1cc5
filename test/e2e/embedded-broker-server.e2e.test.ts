import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { type RunningServer, startServer } from '../../src/server.js';

async function occupiedPort(): Promise<{ port: number; release(): Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, release: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('warden serve starts and stops the embedded broker', () => {
  let dataDir: string;
  const env = (extra: Record<string, string>) =>
    loadConfig({
      WARDEN_DATA_DIR: dataDir,
      WARDEN_HTTP_PORT: '0',
      WARDEN_HTTP_HOST: '127.0.0.1',
      WARDEN_MQTT_HOST: '127.0.0.1',
      WARDEN_ADMIN_PASSWORD: 'Root-Passw0rd!',
      WARDEN_LOG_LEVEL: 'silent',
      ...extra,
    });

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-serve-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('listens on WARDEN_MQTT_PORT, authenticates Warden users and closes with the server', async () => {
    const free = await occupiedPort();
    await free.release();
    let server: RunningServer | null = await startServer(env({ WARDEN_MQTT_PORT: String(free.port) }));
    try {
      expect(server.broker?.url).toBe(`mqtt://127.0.0.1:${free.port}`);
      const client = await mqtt.connectAsync(server.broker?.url as string, {
        username: 'admin',
        password: 'Root-Passw0rd!',
        reconnectPeriod: 0,
      });
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      await server.close();
      server = null;
      await closed;
    } finally {
      await server?.close();
    }
  });

  it('WARDEN_MQTT_PORT=0 turns the broker off', async () => {
    const server = await startServer(env({ WARDEN_MQTT_PORT: '0' }));
    expect(server.broker).toBeNull();
    await server.close();
  });

  it('a taken port stops the start with an error naming WARDEN_MQTT_PORT, leaving nothing listening', async () => {
    const taken = await occupiedPort();
    try {
      await expect(startServer(env({ WARDEN_MQTT_PORT: String(taken.port) }))).rejects.toThrow(
        /WARDEN_MQTT_PORT: port \d+ is already in use/,
      );
    } finally {
      await taken.release();
    }
    // The database was closed again: a second start on the same data dir works.
    const server = await startServer(env({ WARDEN_MQTT_PORT: '0' }));
    await server.close();
  });
});
