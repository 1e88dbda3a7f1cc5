import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import {
  dynsecAdmin,
  type MosquittoInstance,
  mosquittoPlugin,
  startMosquitto,
} from '../helpers/mosquitto.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

const plugin = mosquittoPlugin();

/** Waits for something the broker reaches asynchronously; never asserts on time. */
const until = (condition: () => void | Promise<void>): Promise<void> =>
  vi.waitFor(condition, { timeout: 10_000, interval: 20 });

/** MQTT 5 reason codes (SUBACK granted QoS or ≥ 0x80 failure; PUBACK 0 / 0x10 success, 0x87 not authorized). */
const NOT_AUTHORIZED = 0x87;

async function subscribeCode(client: MqttClient, filter: string, qos: 0 | 1 | 2 = 1): Promise<number> {
  return new Promise((resolve, reject) => {
    client.subscribe(filter, { qos }, (error, granted) => {
      const packet = (error as { packet?: { granted?: number[]; reasonCode?: number } } | undefined)?.packet;
      if (packet?.granted?.[0] !== undefined) return resolve(packet.granted[0]);
      if (error) return reject(error);
      resolve(granted?.[0]?.qos ?? -1);
    });
  });
}

async function publishCode(client: MqttClient, topic: string, qos: 1 | 2 = 1): Promise<number> {
  return new Promise((resolve) => {
    client.publish(topic, 'x', { qos }, (error, packet) => {
      const code =
        (error as { code?: number } | undefined)?.code ??
        (packet as { reasonCode?: number } | undefined)?.reasonCode;
      resolve(code ?? 0);
    });
  });
}

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) resolve();
    else client.once('close', () => resolve());
  });
}

describe.skipIf(plugin === null)(
  'Mosquitto 2 dynamic-security sync (real broker, real mqtt.js clients)',
  () => {
    let mosquitto: MosquittoInstance;
    let t: TestContext;
    let root: string;
    const clients: MqttClient[] = [];

    async function connect(username: string, options: IClientOptions = {}): Promise<MqttClient> {
      const client = await mqtt.connectAsync(mosquitto.url, {
        username,
        password: STRONG_PASSWORD,
        clientId: `${username}-${clients.length}`,
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        ...options,
      });
      clients.push(client);
      return client;
    }

    async function refused(username: string, password = STRONG_PASSWORD): Promise<boolean> {
      return connect(username, { password }).then(
        (client) => {
          client.end(true);
          return false;
        },
        () => true,
      );
    }

    async function synced(): Promise<void> {
      await t.services.brokers.idle();
    }

    beforeAll(async () => {
      mosquitto = await startMosquitto(plugin as string);
      t = await createTestContext();
      root = await t.login('admin', ROOT_PASSWORD);
      // Created before the integration: Warden cannot know this user's Mosquitto password yet.
      await t.createUser({ username: 'legacy-1', kind: 'device' });
      await t.services.accessRoles.create(CLI_CONTEXT, {
        name: 'sensor',
        rules: [
          { permission: 'deny', action: 'all', topic: 'dt/${username}/secret/#' },
          { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up' },
          { permission: 'allow', action: 'subscribe', topic: 'cmd/${username}/#' },
        ],
      });
      await t.services.accessRoles.create(CLI_CONTEXT, {
        name: 'fleet',
        rules: [{ permission: 'allow', action: 'subscribe', topic: 'fleet/#' }],
      });
      const created = await t.call('POST', '/api/v1/brokers', {
        cookie: root,
        payload: {
          name: 'mosquitto-1',
          kind: 'mosquitto',
          config: {
            url: mosquitto.url,
            adminUsername: mosquitto.adminUsername,
            adminPassword: mosquitto.adminPassword,
          },
        },
      });
      expect(created.statusCode, created.body).toBe(201);
      await t.services.brokers.start();
      await until(async () => {
        const status = await t.services.brokers.status('mosquitto-1');
        expect(status.connected).toBe(true);
        expect(status.lastSyncAt).not.toBeNull();
      });
      await synced();
    });

    afterAll(async () => {
      for (const client of clients) client.end(true);
      await t?.services.brokers.stop();
      await t?.close();
      await mosquitto?.stop();
    });

    it('a user created in Warden connects and publishes and subscribes exactly as its rules say', async () => {
      await t.createUser({ username: 'dev-1', kind: 'device', accessRoles: ['sensor', 'fleet'] });
      await synced();
      const client = await connect('dev-1');
      expect(await publishCode(client, 'dt/dev-1/t/up')).not.toBe(NOT_AUTHORIZED);
      expect(await publishCode(client, 'dt/dev-2/t/up')).toBe(NOT_AUTHORIZED);
      expect(await publishCode(client, 'dt/dev-1/secret/up')).toBe(NOT_AUTHORIZED);
      expect(await subscribeCode(client, 'cmd/dev-1/#')).toBe(1);
      expect(await subscribeCode(client, 'cmd/dev-2/#')).toBe(NOT_AUTHORIZED);
      expect(await subscribeCode(client, 'fleet/#')).toBe(1);
      expect(await subscribeCode(client, '$share/g/fleet/a')).toBe(1);
      expect(await subscribeCode(client, 'other/#')).toBe(NOT_AUTHORIZED);
      expect(await refused('dev-1', 'Wrong-Passw0rd!')).toBe(true);
    });

    it('deactivation disconnects the user at once and refuses it until reactivated', async () => {
      await t.createUser({ username: 'dev-2', kind: 'device', accessRoles: ['sensor'] });
      await synced();
      const client = await connect('dev-2');
      const gone = closed(client);
      const response = await t.call('POST', '/api/v1/users/dev-2/deactivate', { cookie: root });
      expect(response.statusCode).toBe(200);
      await gone;
      await synced();
      expect(await refused('dev-2')).toBe(true);
      await t.call('POST', '/api/v1/users/dev-2/reactivate', { cookie: root });
      await synced();
      expect(await refused('dev-2')).toBe(false);
    });

    it('a new password reaches Mosquitto when it is set; the old one stops working', async () => {
      await t.createUser({ username: 'dev-3', kind: 'device', accessRoles: ['sensor'] });
      await synced();
      const response = await t.call('PUT', '/api/v1/users/dev-3/password', {
        cookie: root,
        payload: { password: 'N3w-Passw0rd!x' },
      });
      expect(response.statusCode).toBe(204);
      await synced();
      expect(await refused('dev-3')).toBe(true);
      expect(await refused('dev-3', 'N3w-Passw0rd!x')).toBe(false);
    });

    it('a generated device secret and its rotation reach Mosquitto through the API, like any password set', async () => {
      const created = await t.call('POST', '/api/v1/users', {
        cookie: root,
        payload: { username: 'dev-gen', role: 'viewer', kind: 'device', accessRoles: ['sensor'] },
      });
      expect(created.statusCode).toBe(201);
      const { generatedPassword } = created.json();
      await synced();
      expect(await refused('dev-gen', generatedPassword)).toBe(false);
      const rotated = await t.call('POST', '/api/v1/users/dev-gen/secret', {
        cookie: root,
        payload: { graceMinutes: 30 },
      });
      expect(rotated.statusCode).toBe(200);
      await synced();
      expect(await refused('dev-gen', rotated.json().secret)).toBe(false);
      // One password per dynsec client: the previous secret's grace period holds only where Warden decides.
      expect(await refused('dev-gen', generatedPassword)).toBe(true);
    });

    it('rule and assignment changes apply: the client is kicked and reconnects with the new rules', async () => {
      await t.createUser({ username: 'dev-4', kind: 'device', accessRoles: ['fleet'] });
      await synced();
      let client = await connect('dev-4');
      expect(await subscribeCode(client, 'fleet/x')).toBe(1);
      const gone = closed(client);
      await t.services.users.update(CLI_CONTEXT, 'dev-4', { accessRoles: [] });
      await gone;
      await synced();
      client = await connect('dev-4');
      expect(await subscribeCode(client, 'fleet/x')).toBe(NOT_AUTHORIZED);
      await t.services.users.update(CLI_CONTEXT, 'dev-4', { accessRoles: ['fleet'] });
      await t.services.accessRoles.update(CLI_CONTEXT, 'fleet', {
        rules: [{ permission: 'allow', action: 'subscribe', topic: 'fleet/a/#' }],
      });
      await synced();
      client = await connect('dev-4');
      expect(await subscribeCode(client, 'fleet/a/1')).toBe(1);
      expect(await subscribeCode(client, 'fleet/b/1')).toBe(NOT_AUTHORIZED);
    });

    it('deleting a user deletes its client', async () => {
      await t.createUser({ username: 'dev-5', kind: 'device', accessRoles: ['sensor'] });
      await synced();
      await t.services.users.remove(CLI_CONTEXT, 'dev-5');
      await synced();
      expect(await refused('dev-5')).toBe(true);
      const dryRun = await t.call('POST', '/api/v1/brokers/mosquitto-1/sync?dryRun=true', { cookie: root });
      expect(dryRun.json().changes).toEqual([]);
    });

    it('a full reconcile repairs drift with only the commands needed; dry-run lists them without applying', async () => {
      const admin = await dynsecAdmin(mosquitto);
      await admin.execute([
        { command: 'deleteRole', rolename: 'warden-role-fleet' },
        { command: 'disableClient', username: 'dev-1' },
        { command: 'createClient', username: 'intruder', groups: [{ groupname: 'warden' }] },
        { command: 'createClient', username: 'not-ours' },
      ]);
      await admin.close();
      const dryRun = await t.call('POST', '/api/v1/brokers/mosquitto-1/sync?dryRun=true', { cookie: root });
      expect(dryRun.statusCode).toBe(200);
      const planned = (dryRun.json().changes as Array<{ action: string; target: string; name: string }>).map(
        (change) => `${change.action} ${change.target} ${change.name}`,
      );
      // Deleting a role also detached it from its holder dev-4: its client roles are restored too.
      expect(planned.sort()).toEqual(
        [
          'create role warden-role-fleet',
          'enable client dev-1',
          'delete client intruder',
          'update client dev-4',
        ].sort(),
      );
      expect(
        (await t.call('POST', '/api/v1/brokers/mosquitto-1/sync?dryRun=true', { cookie: root })).json()
          .changes,
      ).toHaveLength(4);
      const applied = await t.call('POST', '/api/v1/brokers/mosquitto-1/sync', { cookie: root });
      expect(applied.json().changes).toHaveLength(4);
      expect(
        (await t.call('POST', '/api/v1/brokers/mosquitto-1/sync?dryRun=true', { cookie: root })).json()
          .changes,
      ).toEqual([]);
      expect(await refused('dev-1')).toBe(false);
    });

    it('the status lists users whose Mosquitto password Warden cannot know', async () => {
      const status = await t.call('GET', '/api/v1/brokers/mosquitto-1/status', { cookie: root });
      expect(status.statusCode).toBe(200);
      const body = status.json();
      expect(body).toMatchObject({
        name: 'mosquitto-1',
        kind: 'mosquitto',
        running: true,
        connected: true,
        lastError: null,
      });
      expect(body.pendingPasswords.usernames).toContain('legacy-1');
      expect(body.pendingPasswords.usernames).toContain('admin');
      expect(body.pendingPasswords.usernames).not.toContain('dev-1');
      expect(await refused('legacy-1')).toBe(true);
      await t.services.users.setPassword(CLI_CONTEXT, 'legacy-1', STRONG_PASSWORD);
      await synced();
      expect(await refused('legacy-1')).toBe(false);
      const after = (await t.call('GET', '/api/v1/brokers/mosquitto-1/status', { cookie: root })).json();
      expect(after.pendingPasswords.usernames).not.toContain('legacy-1');
    });

    it('a client deleted behind Warden’s back comes back without a password, and the status says so', async () => {
      expect(await refused('dev-3', 'N3w-Passw0rd!x')).toBe(false);
      const admin = await dynsecAdmin(mosquitto);
      await admin.execute([{ command: 'deleteClient', username: 'dev-3' }]);
      await admin.close();
      const applied = await t.call('POST', '/api/v1/brokers/mosquitto-1/sync', { cookie: root });
      expect(applied.json().changes.map((change: { action: string; name: string }) => change.name)).toContain(
        'dev-3',
      );
      const status = (await t.call('GET', '/api/v1/brokers/mosquitto-1/status', { cookie: root })).json();
      expect(status.pendingPasswords.usernames).toContain('dev-3');
      await t.services.users.setPassword(CLI_CONTEXT, 'dev-3', STRONG_PASSWORD);
      await synced();
      expect(await refused('dev-3')).toBe(false);
    });

    it('export-dynsec writes a file a fresh Mosquitto starts from: users log in with their Warden passwords', async () => {
      // As for users that existed before Warden kept broker credentials.
      await t.createUser({ username: 'old-timer', kind: 'device', accessRoles: ['sensor'] });
      await t.database.db
        .deleteFrom('broker_credentials')
        .where('user_id', '=', (await t.services.userReader.findRow('old-timer'))?.id ?? '')
        .execute();
      const exported = await t.services.brokers.exportDynsec();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-export-'));
      const file = path.join(dir, 'dynamic-security.json');
      fs.writeFileSync(file, JSON.stringify(exported.document, null, 2));
      const fresh = await startMosquitto(plugin as string, { dynsecFile: file });
      try {
        const client = await mqtt.connectAsync(fresh.url, {
          username: 'dev-1',
          password: STRONG_PASSWORD,
          protocolVersion: 5,
          reconnectPeriod: 0,
        });
        expect(await subscribeCode(client, 'cmd/dev-1/a')).toBe(1);
        expect(await subscribeCode(client, 'cmd/dev-2/a')).toBe(NOT_AUTHORIZED);
        await client.endAsync();
        expect(exported.withoutPassword).toEqual(['old-timer']);
        const clientsOut = exported.document.clients as Array<Record<string, unknown>>;
        expect(clientsOut.find((client) => client.username === 'old-timer')).not.toHaveProperty('password');
        expect(clientsOut.find((client) => client.username === 'admin')).toHaveProperty('iterations', 101);
        // The exported admin can administer the new broker, so Warden can sync it once it runs.
        const admin = await dynsecAdmin({ ...mosquitto, url: fresh.url });
        const [listed] = await admin.execute([{ command: 'listClients' }]);
        expect(listed?.data?.clients).toEqual(expect.arrayContaining(['dev-1', 'old-timer']));
        await admin.close();
      } finally {
        await fresh.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
