import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmbeddedBroker } from '../../src/integrations/aedes/embedded-broker.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { startLocalBroker } from '../helpers/local-broker.js';
import { inbox } from '../helpers/mqtt-inbox.js';
import {
  makeCsr,
  makeForeignClientCertificate,
  makeKey,
  makeServerPki,
  tempDir,
} from '../helpers/openssl.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

const run = promisify(execFile);

/** Waits for a condition the broker reaches asynchronously (a revocation applied); never asserts on time. */
const until = (condition: () => void | Promise<void>): Promise<void> =>
  vi.waitFor(condition, { timeout: 5_000, interval: 10 });

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (client.disconnected || !client.connected) resolve();
    else client.once('close', () => resolve());
  });
}

/**
 * MQTT over TLS with client certificates issued by Warden's CA, on the embedded broker's TLS listener: the real
 * `mosquitto_pub` and mqtt.js as devices, openssl for every key and request.
 */
describe('embedded broker: client certificates on the TLS listener', () => {
  const pki = tempDir('warden-mtls-');
  let t: TestContext;
  let broker: EmbeddedBroker;
  let server: ReturnType<typeof makeServerPki>;
  let watcher: MqttClient;
  const open: MqttClient[] = [];

  /** A key made by openssl and a certificate issued for `username` from its CSR: the files a device keeps. */
  async function deviceFiles(
    username: string,
    name = username,
    validityDays = 30,
  ): Promise<{ cert: string; key: string; serial: string }> {
    const key = makeKey(pki.file(`${name}.key`));
    const issued = await t.services.certificates.issue(makeCsr(key, `/CN=${username}`), username, {
      validityDays,
    });
    const cert = pki.file(`${name}.crt`);
    fs.writeFileSync(cert, issued.certificatePem);
    return { cert, key, serial: issued.serialNumber };
  }

  /** `mosquitto_pub` over TLS; resolves with its exit code and error output. */
  async function mosquittoPub(args: readonly string[]): Promise<{ code: number; stderr: string }> {
    try {
      const { stderr } = await run('mosquitto_pub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(broker.tlsPort),
        '--cafile',
        server.caFile,
        '-V',
        'mqttv311',
        '-q',
        '1',
        ...args,
      ]);
      return { code: 0, stderr };
    } catch (error) {
      const failed = error as { code?: number; stderr?: string };
      return { code: failed.code ?? -1, stderr: failed.stderr ?? '' };
    }
  }

  async function connectTls(
    files: { cert: string; key: string },
    options: IClientOptions = {},
  ): Promise<MqttClient> {
    const client = await mqtt.connectAsync(broker.tlsUrl as string, {
      ca: fs.readFileSync(server.caFile),
      cert: fs.readFileSync(files.cert),
      key: fs.readFileSync(files.key),
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      protocolVersion: 4,
      ...options,
    });
    open.push(client);
    return client;
  }

  /** The CONNACK return code a refused TLS CONNECT got. */
  async function refusedWith(
    files: { cert: string; key: string },
    options: IClientOptions = {},
  ): Promise<number> {
    const error = await connectTls(files, options).then(
      () => null,
      (e: unknown) => e as { code?: number },
    );
    if (error === null) throw new Error('connection was accepted');
    return error.code ?? -1;
  }

  beforeAll(async () => {
    server = makeServerPki(pki);
    t = await createTestContext();
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'sensor',
      rules: [{ permission: 'allow', action: 'publish', topic: 'dt/${username}/up' }],
    });
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'watch',
      rules: [{ permission: 'allow', action: 'subscribe', topic: 'dt/#' }],
    });
    for (const username of ['dev-1', 'dev-2', 'dev-3']) {
      await t.createUser({ username, kind: 'device', accessRoles: ['sensor'] });
    }
    await t.createUser({ username: 'watcher', kind: 'service', accessRoles: ['watch'] });
    broker = await startLocalBroker(t.services, {
      port: 0,
      tls: { port: 0, certPath: server.certFile, keyPath: server.keyFile },
    });
    watcher = await mqtt.connectAsync(broker.url as string, {
      username: 'watcher',
      password: STRONG_PASSWORD,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    await watcher.subscribeAsync('dt/#', { qos: 1 });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.endAsync(true)));
  });
  afterAll(async () => {
    await watcher?.endAsync(true);
    await broker?.close();
    await t?.close();
    pki.remove();
  });

  it('mosquitto_pub with a Warden-issued certificate publishes without a password where the role allows', async () => {
    const files = await deviceFiles('dev-1');
    const messages = inbox(watcher);
    const anonymous = await mosquittoPub([
      '--cert',
      files.cert,
      '--key',
      files.key,
      '-t',
      'dt/dev-1/up',
      '-m',
      'one',
    ]);
    expect(anonymous).toEqual({ code: 0, stderr: '' });
    const named = await mosquittoPub([
      '--cert',
      files.cert,
      '--key',
      files.key,
      '-u',
      'dev-1',
      '-t',
      'dt/dev-1/up',
      '-m',
      'two',
    ]);
    expect(named.code).toBe(0);
    // Not its topic: acknowledged and dropped by the access rules, as for a password client.
    const elsewhere = await mosquittoPub([
      '--cert',
      files.cert,
      '--key',
      files.key,
      '-t',
      'dt/dev-2/up',
      '-m',
      'x',
    ]);
    expect(elsewhere.code).toBe(0);
    await until(() => expect(messages.map((m) => m.payload)).toEqual(['one', 'two']));
    expect(broker.deniedPublishes()).toBe(1);
    // Another user's name next to the certificate is refused.
    const impostor = await mosquittoPub([
      '--cert',
      files.cert,
      '--key',
      files.key,
      '-u',
      'dev-2',
      '-P',
      'whatever',
      '-t',
      'dt/dev-2/up',
      '-m',
      'x',
    ]);
    expect(impostor.code).not.toBe(0);
    expect(impostor.stderr).toMatch(/not authori[sz]ed/i);
    const audit = await t.services.audit.list({ action: 'mqtt.connect', target: 'user:dev-1' }, 1, 25);
    expect(audit.items.find((e) => e.outcome === 'success')?.details).toMatchObject({
      method: 'certificate',
      serial: files.serial,
    });
    expect(audit.items.find((e) => e.outcome === 'failure')?.details).toMatchObject({
      method: 'certificate',
      reason: 'username_mismatch',
    });
  });

  it('remembers a trusted certificate: a reconnect reads and writes nothing', async () => {
    const files = await deviceFiles('dev-3', 'dev-3-cache');
    const connects = async () =>
      (await t.services.audit.list({ action: 'mqtt.connect', target: 'user:dev-3' }, 1, 250)).total;
    const before = await connects();
    await (await connectTls(files)).endAsync();
    await (await connectTls(files)).endAsync();
    await (await connectTls(files, { username: 'DEV-3' })).endAsync();
    expect(await connects()).toBe(before + 1);
  });

  it('deactivating the user closes its live mTLS connection and refuses the next CONNECT', async () => {
    const files = await deviceFiles('dev-2');
    const client = await connectTls(files, { clientId: 'dev-2-live' });
    expect(t.services.mqttConnections.list({ username: 'dev-2' }).items).toMatchObject([
      { clientId: 'dev-2-live', listener: 'mqtts' },
    ]);
    await t.services.users.deactivate(CLI_CONTEXT, 'dev-2');
    await closed(client);
    expect(await refusedWith(files)).toBe(5);
    const refusal = await mosquittoPub([
      '--cert',
      files.cert,
      '--key',
      files.key,
      '-t',
      'dt/dev-2/up',
      '-m',
      'x',
    ]);
    expect(refusal.stderr).toMatch(/not authori[sz]ed/i);
    await t.services.users.reactivate(CLI_CONTEXT, 'dev-2');
    await (await connectTls(files)).endAsync();
    // Deleted and created again under the same name: the certificate was issued to the old user, not this one.
    const live = await connectTls(files);
    await t.services.users.remove(CLI_CONTEXT, 'dev-2');
    await closed(live);
    await t.createUser({ username: 'dev-2', kind: 'device', accessRoles: ['sensor'] });
    expect(await refusedWith(files)).toBe(5);
  });

  it('revoking the certificate closes its connections (only those) and refuses it from then on', async () => {
    const revoked = await deviceFiles('dev-1', 'dev-1-revoked');
    const kept = await deviceFiles('dev-1', 'dev-1-kept');
    const doomed = await connectTls(revoked, { clientId: 'doomed' });
    const survivor = await connectTls(kept, { clientId: 'survivor' });
    const cookie = await t.login('admin', ROOT_PASSWORD);
    const res = await t.call('POST', `/api/v1/certificates/${revoked.serial}/revoke`, { cookie });
    expect(res.statusCode).toBe(200);
    await closed(doomed);
    expect(survivor.connected).toBe(true);
    expect(await refusedWith(revoked)).toBe(5);
    const audit = await t.services.audit.list({ action: 'mqtt.connect', outcome: 'failure' }, 1, 1);
    expect(audit.items[0]?.details).toMatchObject({ reason: 'revoked_certificate', serial: revoked.serial });
  });

  it('refuses a certificate signed by another CA, even with a valid password', async () => {
    const foreign = makeForeignClientCertificate(pki, '/CN=dev-1');
    const files = { cert: foreign.certFile, key: foreign.keyFile };
    expect(await refusedWith(files)).toBe(5);
    expect(await refusedWith(files, { username: 'dev-1', password: STRONG_PASSWORD })).toBe(5);
    const pub = await mosquittoPub([
      '--cert',
      files.cert,
      '--key',
      files.key,
      '-t',
      'dt/dev-1/up',
      '-m',
      'x',
    ]);
    expect(pub.stderr).toMatch(/not authori[sz]ed/i);
    const audit = await t.services.audit.list({ action: 'mqtt.connect', outcome: 'failure' }, 1, 1);
    expect(audit.items[0]).toMatchObject({
      actor: { type: 'anonymous' },
      details: { method: 'certificate', reason: 'untrusted_certificate' },
    });
  });

  it('password clients without a certificate keep working on the TLS listener', async () => {
    const messages = inbox(watcher);
    const client = await mqtt.connectAsync(broker.tlsUrl as string, {
      username: 'dev-1',
      password: STRONG_PASSWORD,
      ca: fs.readFileSync(server.caFile),
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    open.push(client);
    await client.publishAsync('dt/dev-1/up', 'by password', { qos: 1 });
    await until(() => expect(messages.map((m) => m.payload)).toEqual(['by password']));
    const pub = await mosquittoPub(['-u', 'dev-1', '-P', STRONG_PASSWORD, '-t', 'dt/dev-1/up', '-m', 'pub']);
    expect(pub.code).toBe(0);
    const wrong = await mosquittoPub(['-u', 'dev-1', '-P', 'wrong', '-t', 'dt/dev-1/up', '-m', 'x']);
    expect(wrong.code).not.toBe(0);
  });

  // Last: it moves Warden's clock a day on.
  it("closes a connection when its certificate ends, by Warden's clock, and refuses it from then on", async () => {
    const files = await deviceFiles('dev-3', 'dev-3-short', 1);
    const client = await connectTls(files);
    t.clock.advance(86_400_000);
    await closed(client);
    expect(await refusedWith(files)).toBe(5);
    const audit = await t.services.audit.list({ action: 'mqtt.connect', outcome: 'failure' }, 1, 1);
    expect(audit.items[0]?.details).toMatchObject({ reason: 'expired_certificate', serial: files.serial });
  });
});
