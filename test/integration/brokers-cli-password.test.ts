import fs from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, createCliDataDir, runCliCaptured } from '../helpers/cli.js';
import { type MosquittoInstance, mosquittoPlugin, startMosquitto } from '../helpers/mosquitto.js';

const plugin = mosquittoPlugin();

const FIRST_PASSWORD = 'F1rst-Device-Passw0rd!';
const SECOND_PASSWORD = 'Sec0nd-Device-Passw0rd!';
const THIRD_PASSWORD = 'Th1rd-Device-Passw0rd!';
const FOURTH_PASSWORD = 'F0urth-Device-Passw0rd!';
const FIFTH_PASSWORD = 'F1fth-Device-Passw0rd!';

/** Whether Mosquitto lets `username` in with `password` (a real MQTT 5 CONNECT). */
async function canConnect(broker: MosquittoInstance, username: string, password: string): Promise<boolean> {
  return mqtt
    .connectAsync(broker.url, {
      username,
      password,
      clientId: `${username}-probe`,
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    })
    .then(
      async (client) => {
        await client.endAsync(true);
        return true;
      },
      () => false,
    );
}

/**
 * Regression: passwords set from the CLI (which runs no integration) never reached Mosquitto, so those users
 * stayed in `pendingPasswords` and could not log in at the broker. The CLI now pushes them before it exits.
 */
describe.skipIf(plugin === null)('passwords set from the CLI reach Mosquitto (real broker)', () => {
  let env: Record<string, string>;
  let removeDataDir: () => void;
  let mosquitto: MosquittoInstance;

  const cli = (...argv: string[]): Promise<CliResult> => runCliCaptured(env, argv);

  /** Adds a Mosquitto integration for `broker` through the CLI (secrets from a file, as documented). */
  async function addIntegration(name: string, broker: MosquittoInstance, ...flags: string[]): Promise<void> {
    const file = path.join(env.WARDEN_DATA_DIR as string, `${name}.json`);
    fs.writeFileSync(
      file,
      JSON.stringify({
        url: broker.url,
        adminUsername: broker.adminUsername,
        adminPassword: broker.adminPassword,
        timeoutMs: 2_000,
      }),
      { mode: 0o600 },
    );
    const added = await cli('brokers', 'add', name, '--kind', 'mosquitto', '--config-file', file, ...flags);
    expect(added.code, added.err).toBe(0);
  }

  async function pending(integration: string): Promise<string[]> {
    const status = await cli('brokers', 'status', integration, '--json');
    expect(status.code, status.err).toBe(0);
    return JSON.parse(status.out).pendingPasswords.usernames;
  }

  async function sync(integration: string): Promise<void> {
    const synced = await cli('mosquitto', 'sync', '--integration', integration);
    expect(synced.code, synced.err).toBe(0);
  }

  /** `warden users passwd --password-stdin`, the password piped in. */
  async function passwd(password: string): Promise<CliResult> {
    const result = await runCliCaptured(env, ['users', 'passwd', 'plc-01', '--password-stdin'], {
      stdin: `${password}\n`,
    });
    expect(result.code, result.err).toBe(0);
    expect(result.out).toBe('Password of plc-01 changed\n');
    return result;
  }

  beforeAll(async () => {
    ({ env, remove: removeDataDir } = await createCliDataDir('warden-cli-password-'));
    mosquitto = await startMosquitto(plugin as string);
    await addIntegration('mosq', mosquitto);
    await sync('mosq');
  });
  afterAll(async () => {
    await mosquitto?.stop();
    removeDataDir?.();
  });

  it('users create --password-stdin, then mosquitto sync: the device logs in to Mosquitto with that password', async () => {
    const created = await runCliCaptured(
      env,
      ['users', 'create', 'plc-01', '--role', 'viewer', '--kind', 'device', '--password-stdin'],
      { stdin: `${FIRST_PASSWORD}\n` },
    );
    expect(created.code, created.err).toBe(0);
    expect(created.err).toBe('');
    expect(created.out).not.toContain(FIRST_PASSWORD);
    await sync('mosq');
    expect(await canConnect(mosquitto, 'plc-01', FIRST_PASSWORD)).toBe(true);
    expect(await pending('mosq')).not.toContain('plc-01');
  });

  it('users passwd reaches the synced broker at once: the new password works, the old one no longer', async () => {
    const changed = await passwd(SECOND_PASSWORD);
    expect(changed.err).toBe('');
    expect(await canConnect(mosquitto, 'plc-01', SECOND_PASSWORD)).toBe(true);
    expect(await canConnect(mosquitto, 'plc-01', FIRST_PASSWORD)).toBe(false);
    expect(await pending('mosq')).not.toContain('plc-01');
    // Warden keeps an argon2id hash and a sealed Mosquitto record, never the plaintext.
    for (const file of fs.readdirSync(env.WARDEN_DATA_DIR as string)) {
      const content = fs.readFileSync(path.join(env.WARDEN_DATA_DIR as string, file));
      expect(content.includes(SECOND_PASSWORD), file).toBe(false);
    }
  });

  it('users rotate-secret reaches the synced broker at once like any password set; Mosquitto keeps no grace period', async () => {
    const first = await cli('users', 'rotate-secret', 'plc-01', '--json');
    expect(first.code, first.err).toBe(0);
    const { secret: old } = JSON.parse(first.out);
    expect(await canConnect(mosquitto, 'plc-01', old)).toBe(true);
    const second = await cli('users', 'rotate-secret', 'plc-01', '--grace-minutes', '60', '--json');
    expect(second.code, second.err).toBe(0);
    const { secret, previousSecretValidUntil } = JSON.parse(second.out);
    expect(previousSecretValidUntil).not.toBeNull();
    expect(await canConnect(mosquitto, 'plc-01', secret)).toBe(true);
    // Dynamic security holds one password per client: the grace period applies where Warden decides.
    expect(await canConnect(mosquitto, 'plc-01', old)).toBe(false);
    expect(await pending('mosq')).not.toContain('plc-01');
    for (const output of [second.err, first.err]) expect(output).toBe('');
  });

  it('a stopped broker does not fail passwd: exit 0, a warning naming the integration, the user stays pending', async () => {
    const stopped = await startMosquitto(plugin as string);
    try {
      await addIntegration('mosq-down', stopped);
      await sync('mosq-down');
      await passwd(THIRD_PASSWORD);
      expect(await pending('mosq-down')).not.toContain('plc-01');
      await stopped.stop();

      const changed = await passwd(FOURTH_PASSWORD);
      expect(changed.err).toMatch(/^warning: .*plc-01.*"mosq-down".*pendingPasswords/);
      expect(changed.err).not.toContain('"mosq"');
      for (const output of [changed.out, changed.err]) expect(output).not.toContain(FOURTH_PASSWORD);
      expect(await pending('mosq-down')).toContain('plc-01');
      // The reachable broker got it all the same.
      expect(await canConnect(mosquitto, 'plc-01', FOURTH_PASSWORD)).toBe(true);
      expect(await pending('mosq')).not.toContain('plc-01');
    } finally {
      await stopped.stop();
      expect((await cli('brokers', 'remove', 'mosq-down')).code).toBe(0);
    }
  });

  it('a disabled integration is not contacted, even when its broker is up', async () => {
    await addIntegration('mosq-off', mosquitto, '--disabled');
    const changed = await passwd(FIFTH_PASSWORD);
    expect(changed.err).toBe('');
    expect(await canConnect(mosquitto, 'plc-01', FIFTH_PASSWORD)).toBe(true);
    // Had it been contacted, its ledger would record the new password as synced like the enabled one's.
    expect(await pending('mosq-off')).toContain('plc-01');
    expect(await pending('mosq')).not.toContain('plc-01');
  });
});
