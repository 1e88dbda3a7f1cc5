import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import {
  dynsecAdmin,
  type MosquittoInstance,
  mosquittoPlugin,
  startMosquitto,
} from '../helpers/mosquitto.js';
import { inbox, type Received } from '../helpers/mqtt-inbox.js';
import {
  makeCsr,
  makeForeignClientCertificate,
  makeKey,
  makeServerPki,
  tempDir,
} from '../helpers/openssl.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

const plugin = mosquittoPlugin();
const run = promisify(execFile);

const until = (condition: () => void | Promise<void>): Promise<void> =>
  vi.waitFor(condition, { timeout: 10_000, interval: 20 });

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) resolve();
    else client.once('close', () => resolve());
  });
}

/**
 * Mosquitto 2 verifying Warden-issued client certificates itself (`cafile` = Warden's CA, `require_certificate`,
 * `use_identity_as_username`) while Warden's dynamic-security sync gives each device its rules: the real broker,
 * the real `mosquitto_pub`, openssl for every key.
 */
describe.skipIf(plugin === null)('Mosquitto with Warden-issued client certificates (real broker)', () => {
  const pki = tempDir('warden-mosquitto-mtls-');
  let mosquitto: MosquittoInstance;
  let t: TestContext;
  let server: ReturnType<typeof makeServerPki>;
  let watcher: MqttClient;
  let messages: Received[];
  let device: { cert: string; key: string };
  const clients: MqttClient[] = [];

  const synced = (): Promise<void> => t.services.brokers.idle();

  async function issue(username: string): Promise<{ cert: string; key: string }> {
    const key = makeKey(pki.file(`${username}.key`));
    const issued = await t.services.certificates.issue(makeCsr(key, `/CN=${username}`), username, {
      validityDays: 30,
    });
    const cert = pki.file(`${username}.crt`);
    fs.writeFileSync(cert, issued.certificatePem);
    return { cert, key };
  }

  /** `mosquitto_pub` with a client certificate on the certificate listener; resolves with its exit code. */
  async function publish(files: { cert: string; key: string }, topic: string, message: string) {
    try {
      await run('mosquitto_pub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(mosquitto.tlsPort),
        '--cafile',
        server.caFile,
        '--cert',
        files.cert,
        '--key',
        files.key,
        '-q',
        '1',
        '-t',
        topic,
        '-m',
        message,
      ]);
      return { code: 0, stderr: '' };
    } catch (error) {
      const failed = error as { code?: number; stderr?: string };
      return { code: failed.code ?? -1, stderr: failed.stderr ?? '' };
    }
  }

  /**
   * The payloads the watcher received up to a marker it publishes itself: Mosquitto routes a QoS 1 message before
   * it acknowledges it, so whatever the device sent before the marker has arrived (or never will).
   */
  async function deliveredUpToMarker(): Promise<string[]> {
    const marker = `marker-${messages.length}-${Date.now()}`;
    await watcher.publishAsync('dt/marker', marker, { qos: 1 });
    await until(() => expect(messages.map((m) => m.payload)).toContain(marker));
    const payloads = messages.splice(0).map((m) => m.payload);
    return payloads.slice(0, payloads.indexOf(marker));
  }

  beforeAll(async () => {
    server = makeServerPki(pki);
    t = await createTestContext();
    const caFile = pki.file('warden-ca.pem');
    fs.writeFileSync(caFile, await t.services.certificates.caCertificatePem());
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'sensor',
      rules: [{ permission: 'allow', action: 'publish', topic: 'dt/${username}/up' }],
    });
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'watch',
      rules: [{ permission: 'allow', action: 'all', topic: 'dt/#' }],
    });
    // Before the integration exists: Warden knows no Mosquitto password for it, as for a certificate-only device.
    await t.createUser({ username: 'dev-1', kind: 'device', accessRoles: ['sensor'] });
    mosquitto = await startMosquitto(plugin as string, {
      clientCertificates: {
        certFile: server.certFile,
        keyFile: server.keyFile,
        caFile,
        crlPem: await t.services.certificates.revocationListPem(),
      },
    });
    const root = await t.login('admin', ROOT_PASSWORD);
    const created = await t.call('POST', '/api/v1/brokers', {
      cookie: root,
      payload: {
        name: 'mosquitto-mtls',
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
    await until(async () =>
      expect((await t.services.brokers.status('mosquitto-mtls')).lastSyncAt).not.toBeNull(),
    );
    await t.createUser({ username: 'watcher', kind: 'service', accessRoles: ['watch'] });
    await synced();
    watcher = await mqtt.connectAsync(mosquitto.url, {
      username: 'watcher',
      password: STRONG_PASSWORD,
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    messages = inbox(watcher);
    await watcher.subscribeAsync('dt/#', { qos: 1 });
    device = await issue('dev-1');
  });

  afterAll(async () => {
    for (const client of clients) client.end(true);
    await watcher?.endAsync(true);
    await t?.services.brokers.stop();
    await t?.close();
    await mosquitto?.stop();
    pki.remove();
  });

  it('syncs the certificate-only device as a dynsec client with its roles and no usable password', async () => {
    const admin = await dynsecAdmin(mosquitto);
    try {
      const [reply] = await admin.execute([{ command: 'getClient', username: 'dev-1' }]);
      if (!reply) throw new Error('no reply to getClient');
      const { client } = reply.data as {
        client: { roles: Array<{ rolename: string }>; disabled?: boolean };
      };
      expect(client.roles.map((role) => role.rolename)).toEqual(['warden-user-dev-1']);
      expect(client.disabled ?? false).toBe(false);
    } finally {
      await admin.close();
    }
    const byPassword = await mqtt
      .connectAsync(mosquitto.url, { username: 'dev-1', password: STRONG_PASSWORD, reconnectPeriod: 0 })
      .then(
        (client) => {
          client.end(true);
          return 'accepted';
        },
        () => 'refused',
      );
    expect(byPassword).toBe('refused');
  });

  it('mosquitto_pub with the Warden-issued certificate publishes where the role allows, and nowhere else', async () => {
    expect(await publish(device, 'dt/dev-1/up', 'mine')).toMatchObject({ code: 0 });
    await publish(device, 'dt/dev-2/up', 'not mine');
    await publish(device, 'other/topic', 'nowhere');
    expect(await deliveredUpToMarker()).toEqual(['mine']);
  });

  it('Mosquitto refuses a certificate from another CA in the TLS handshake', async () => {
    const foreign = makeForeignClientCertificate(pki, '/CN=dev-1');
    const result = await publish({ cert: foreign.certFile, key: foreign.keyFile }, 'dt/dev-1/up', 'forged');
    expect(result.code).not.toBe(0);
    expect(await deliveredUpToMarker()).toEqual([]);
  });

  it('a deactivated device is kicked and its certificate carries no rights until it is reactivated', async () => {
    const live = await mqtt.connectAsync(`mqtts://127.0.0.1:${mosquitto.tlsPort}`, {
      ca: fs.readFileSync(server.caFile),
      cert: fs.readFileSync(device.cert),
      key: fs.readFileSync(device.key),
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    clients.push(live);
    await live.publishAsync('dt/dev-1/up', 'live', { qos: 1 });
    expect(await deliveredUpToMarker()).toEqual(['live']);
    const gone = closed(live);
    await t.services.users.deactivate(CLI_CONTEXT, 'dev-1');
    await synced();
    await gone;
    // Mosquitto skips the plugin's login check for certificate logins: the client connects, but holds nothing.
    await publish(device, 'dt/dev-1/up', 'while inactive');
    expect(await deliveredUpToMarker()).toEqual([]);
    await t.services.users.reactivate(CLI_CONTEXT, 'dev-1');
    await synced();
    await publish(device, 'dt/dev-1/up', 'back');
    expect(await deliveredUpToMarker()).toEqual(['back']);
  });

  it('a revocation reaches Mosquitto through the CRL it reloads', async () => {
    const key = makeKey(pki.file('dev-1-second.key'));
    const second = await t.services.certificates.issue(makeCsr(key, '/CN=dev-1'), 'dev-1', {
      validityDays: 30,
    });
    const secondFiles = { cert: pki.file('dev-1-second.crt'), key };
    fs.writeFileSync(secondFiles.cert, second.certificatePem);
    expect(await publish(secondFiles, 'dt/dev-1/up', 'second')).toMatchObject({ code: 0 });
    expect(await deliveredUpToMarker()).toEqual(['second']);
    await t.services.certificates.revoke(CLI_CONTEXT, second.serialNumber);
    // What an operator's job does: fetch GET /api/v1/registry/ca.crl, put it in place, reload Mosquitto.
    const crl = await t.call('GET', '/api/v1/registry/ca.crl');
    mosquitto.replaceCrl(crl.body);
    await until(async () => expect((await publish(secondFiles, 'dt/dev-1/up', 'probe')).code).not.toBe(0));
    // Probes sent before the reload took effect were delivered; none after.
    await deliveredUpToMarker();
    expect((await publish(secondFiles, 'dt/dev-1/up', 'revoked')).code).not.toBe(0);
    // The device's other certificate is untouched.
    expect(await publish(device, 'dt/dev-1/up', 'first')).toMatchObject({ code: 0 });
    expect(await deliveredUpToMarker()).toEqual(['first']);
  });
});
