import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
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

  it('WARDEN_MQTT_MAX_PACKET_BYTES bounds every packet after CONNECT (a larger one closes the connection)', async () => {
    const free = await occupiedPort();
    await free.release();
    const server = await startServer(
      env({ WARDEN_MQTT_PORT: String(free.port), WARDEN_MQTT_MAX_PACKET_BYTES: '2048' }),
    );
    try {
      const client = await mqtt.connectAsync(server.broker?.url as string, {
        username: 'admin',
        password: 'Root-Passw0rd!',
        reconnectPeriod: 0,
      });
      // admin holds no MQTT rule: a SUBSCRIBE is answered SUBACK 128 and keeps the connection, whatever its size
      // below the limit — so a closed connection can only be the limit.
      await new Promise<void>((resolve) => client.subscribe('a'.repeat(1_500), () => resolve()));
      expect(client.connected).toBe(true);
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.subscribe('b'.repeat(3_000));
      await closed;
      expect(server.broker?.protocolRefusals().packet_too_large).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('refuses a WARDEN_MQTT_MAX_PACKET_BYTES that is not a whole number of bytes in range, naming it', () => {
    expect(env({}).mqttMaxPacketBytes).toBe(1_048_576);
    expect(env({ WARDEN_MQTT_MAX_PACKET_BYTES: '1024' }).mqttMaxPacketBytes).toBe(1024);
    expect(env({ WARDEN_MQTT_MAX_PACKET_BYTES: '268435460' }).mqttMaxPacketBytes).toBe(268_435_460);
    for (const value of ['abc', '1MiB', '1.5', '-1', '0', '1023', '268435461', ' 2048', '1e6']) {
      const load = () => env({ WARDEN_MQTT_MAX_PACKET_BYTES: value });
      expect(load, value).toThrow(ConfigError);
      expect(load, value).toThrow(
        `WARDEN_MQTT_MAX_PACKET_BYTES: must be a whole number of bytes from 1024 to 268435460, got "${value}"`,
      );
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
