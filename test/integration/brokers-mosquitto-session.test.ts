import net from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONTROL_TOPIC, RESPONSE_TOPIC } from '../../src/integrations/mosquitto-dynsec/dynsec-client.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { createTestContext, type TestContext } from '../helpers/test-app.js';

/**
 * The dynsec admin session against a stand-in broker (plain aedes) that accepts the admin and its
 * subscription, and either never answers on the control topic or answers other admins' commands only: the
 * session must match replies by correlationData and turn silence into a timeout in the status.
 */
describe('Mosquitto admin session: correlation and timeouts', () => {
  let t: TestContext;
  let broker: Aedes;
  let server: net.Server;
  let url: string;
  let answering = false;

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    broker.on('publish', (packet, client) => {
      if (!client || packet.topic !== CONTROL_TOPIC || !answering) return;
      const { commands } = JSON.parse(packet.payload.toString()) as {
        commands: Array<{ command: string; correlationData: string }>;
      };
      // A reply for someone else first (every admin receives every reply), then the real ones.
      const responses = [
        { command: 'getDefaultACLAccess', correlationData: 'someone-else', error: 'not yours' },
        ...commands.map((command) => ({
          command: command.command,
          correlationData: command.correlationData,
          error: 'Unknown command',
        })),
      ];
      broker.publish(
        {
          cmd: 'publish',
          topic: RESPONSE_TOPIC,
          payload: Buffer.from(JSON.stringify({ responses })),
          qos: 0,
          retain: false,
          dup: false,
        },
        () => {},
      );
    });
    server = net.createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    t = await createTestContext();
    await t.services.brokers.create(CLI_CONTEXT, {
      name: 'silent',
      kind: 'mosquitto',
      config: { url, adminUsername: 'warden-sync', adminPassword: 'irrelevant', timeoutMs: 200 },
    });
    await t.services.brokers.start();
  });
  afterAll(async () => {
    await t.services.brokers.stop();
    await t.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a broker that never answers: connected, but the reconcile times out and the status says why', async () => {
    await vi.waitFor(
      async () => {
        const status = await t.services.brokers.status('silent');
        expect(status.connected).toBe(true);
        expect(status.lastError).toMatch(/no response from Mosquitto within 200 ms/);
      },
      { timeout: 5_000, interval: 20 },
    );
    await expect(t.services.brokers.sync(CLI_CONTEXT, 'silent', { dryRun: true })).rejects.toMatchObject({
      code: 'broker.unreachable',
    });
  });

  it('replies are matched by correlationData; a refused command fails the sync with its error', async () => {
    answering = true;
    const failure = await t.services.brokers
      .sync(CLI_CONTEXT, 'silent', { dryRun: true })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({
      code: 'broker.unreachable',
      message: expect.stringContaining('Unknown command'),
    });
    expect(String((failure as Error).message)).not.toContain('not yours');
  });
});
