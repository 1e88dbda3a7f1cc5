import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl } from '../helpers/databases.js';
import {
  dynsecAdmin,
  type MosquittoInstance,
  mosquittoPlugin,
  startMosquitto,
} from '../helpers/mosquitto.js';
import { STRONG_PASSWORD } from '../helpers/test-app.js';
import {
  ADMIN_PASSWORD,
  api,
  type Cluster,
  createCluster,
  type Instance,
  login,
  until,
} from '../helpers/warden-cluster.js';

/**
 * The duties (docs/deployment.md#duties) with real processes: two `warden serve` instances on one PostgreSQL
 * schema and a private Mosquitto with dynamic security. The holder is killed with SIGKILL (no goodbye: its
 * advisory lock goes with its connection); the other instance takes the duties over and reconciles Mosquitto in
 * full: a user created on it while or right after the holder died exists in Mosquitto and logs in there, and a
 * client deleted in Mosquitto behind Warden's back while the old holder ran comes back.
 */

const url = postgresUrl();
const plugin = url === null ? null : mosquittoPlugin();

interface Duty {
  instance: string;
  here: boolean;
}

interface BrokerStatus {
  running: boolean;
  connected: boolean | null;
  duty: Duty | null;
}

describe.skipIf(url === null || plugin === null)(
  'duties failover between Warden instances (real processes)',
  () => {
    let mosquitto: MosquittoInstance;
    let cluster: Cluster;
    let instances: Instance[];
    let root: string;

    async function status(instance: Instance): Promise<BrokerStatus> {
      const response = await api(instance.url, 'GET', '/api/v1/brokers/mosquitto-1/status', { cookie: root });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body as BrokerStatus;
    }

    async function dynsecClients(): Promise<string[]> {
      const admin = await dynsecAdmin(mosquitto);
      try {
        const [listed] = await admin.execute([{ command: 'listClients' }]);
        return (listed?.data as { clients?: string[] } | undefined)?.clients ?? [];
      } finally {
        await admin.close();
      }
    }

    /** Whether `username` logs in to Mosquitto itself with `password` (CONNACK 0). */
    async function logsInToMosquitto(username: string, password: string): Promise<boolean> {
      return mqtt
        .connectAsync(mosquitto.url, {
          username,
          password,
          clientId: `${username}-${Date.now()}`,
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 5_000,
        })
        .then(
          (client) => {
            client.end(true);
            return true;
          },
          () => false,
        );
    }

    async function createDevice(on: Instance, username: string): Promise<void> {
      const created = await api(on.url, 'POST', '/api/v1/users', {
        cookie: root,
        body: { username, password: STRONG_PASSWORD, role: 'viewer', kind: 'device' },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }

    /** The user is a dynsec client that logs in to Mosquitto with its password (the sync and the push done). */
    async function inMosquitto(username: string, ms = 20_000): Promise<void> {
      await until(
        async () => {
          expect(await dynsecClients()).toContain(username);
          expect(await logsInToMosquitto(username, STRONG_PASSWORD)).toBe(true);
        },
        ms,
        100,
      );
    }

    beforeAll(async () => {
      mosquitto = await startMosquitto(plugin as string);
      cluster = await createCluster(url as string);
      instances = await Promise.all(['duties-a', 'duties-b'].map((name) => cluster.start(name)));
      root = await login(instances[0]?.url as string, 'admin', ADMIN_PASSWORD);
    }, 240_000);

    afterAll(async () => {
      await cluster?.destroy();
      await mosquitto?.stop();
    }, 60_000);

    it('the other instance takes the duties over within seconds of a SIGKILL and reconciles Mosquitto in full', async () => {
      const [first, second] = instances as [Instance, Instance];
      const created = await api(first.url, 'POST', '/api/v1/brokers', {
        cookie: root,
        body: {
          name: 'mosquitto-1',
          kind: 'mosquitto',
          config: {
            url: mosquitto.url,
            adminUsername: mosquitto.adminUsername,
            adminPassword: mosquitto.adminPassword,
          },
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);

      // Both instances name the same holder; only the holder says "here" and runs the sync.
      const duty = await until(async () => {
        const [one, two] = [await status(first), await status(second)];
        expect(one.duty?.instance).toBeDefined();
        expect(two.duty?.instance).toBe(one.duty?.instance);
        expect([one.duty?.here, two.duty?.here].sort()).toEqual([false, true]);
        return one.duty as Duty;
      });
      const holder = instances.find((instance) => instance.instance === duty.instance) as Instance;
      const survivor = instances.find((instance) => instance !== holder) as Instance;
      await until(async () => expect(await status(holder)).toMatchObject({ running: true, connected: true }));
      await createDevice(survivor, 'before-1');
      await inMosquitto('before-1');

      // Behind Warden's back, while the holder runs: only a full reconcile brings this client back.
      const admin = await dynsecAdmin(mosquitto);
      const [deleted] = await admin.execute([{ command: 'deleteClient', username: 'before-1' }]);
      await admin.close();
      expect(deleted?.error).toBeUndefined();
      expect(await dynsecClients()).not.toContain('before-1');

      const killedAt = performance.now();
      await holder.kill();
      // Created on the survivor while the duties are vacant: the password goes to Mosquitto over a one-off
      // session, the client itself comes with the new holder's full reconcile.
      await createDevice(survivor, 'during-1');
      await until(
        async () => expect((await status(survivor)).duty).toEqual(expect.objectContaining({ here: true })),
        10_000,
        50,
      );
      const takeoverMs = performance.now() - killedAt;
      console.log(
        `[multi-instance-duties] ${survivor.instance} took the duties over ${takeoverMs.toFixed(0)} ms after ` +
          `${holder.instance} was killed with SIGKILL`,
      );
      expect((await status(survivor)).duty?.instance).toBe(survivor.instance);
      await createDevice(survivor, 'after-1');

      await until(async () =>
        expect(await status(survivor)).toMatchObject({ running: true, connected: true }),
      );
      await inMosquitto('during-1');
      await inMosquitto('after-1');
      // The new holder's full reconcile brought back the client deleted behind Warden's back (without its
      // password, which Mosquitto cannot take from a stored record: docs/brokers.md#passwords).
      await until(async () => expect(await dynsecClients()).toContain('before-1'), 20_000, 100);
      // A deactivation reaches Mosquitto from the new holder as well.
      expect(
        (await api(survivor.url, 'POST', '/api/v1/users/during-1/deactivate', { cookie: root })).status,
      ).toBe(200);
      await until(
        async () => expect(await logsInToMosquitto('during-1', STRONG_PASSWORD)).toBe(false),
        20_000,
        100,
      );
    });
  },
);
