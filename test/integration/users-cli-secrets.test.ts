import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { recognizeGeneratedSecret } from '../../src/core/crypto/generated-secret.js';
import { openRuntime } from '../../src/runtime.js';
import { startServices } from '../../src/services.js';
import { type CliResult, createCliDataDir, runCliCaptured } from '../helpers/cli.js';
import { startLocalBroker } from '../helpers/local-broker.js';

const TYPED = 'Typed-Device-Passw0rd!';

/** The secret of a "… (shown once …): <secret>" line. */
function printedSecret(result: CliResult): string {
  const secret = /shown once[^:]*: (\S+)\n/.exec(result.out)?.[1];
  if (!secret) throw new Error(`no secret printed: ${result.out}`);
  return secret;
}

/**
 * The CLI's side of generated secrets (docs/authentication.md#generated-secrets): `users create` and `users
 * passwd` without --password-stdin store a device's or service's secret under the keyed hash and a person's
 * password under argon2id, a piped password is always argon2id, `users rotate-secret` rotates; a secret made by
 * the CLI opens a real MQTT connection at the embedded broker of a Warden on the same database.
 */
describe('users CLI and generated secrets', () => {
  let env: Record<string, string>;
  let remove: () => void;

  beforeAll(async () => {
    ({ env, remove } = await createCliDataDir('warden-cli-secrets-'));
  });
  afterAll(() => remove());

  const cli = (...argv: string[]): Promise<CliResult> => runCliCaptured(env, argv);
  const piped = (password: string, ...argv: string[]): Promise<CliResult> =>
    runCliCaptured(env, argv, { stdin: `${password}\n` });

  /** The schemes and origins of users' records, read through a runtime on the CLI's database. */
  async function records(...usernames: string[]): Promise<Record<string, [string | null, string | null]>> {
    const runtime = await openRuntime(loadConfig(env));
    try {
      const out: Record<string, [string | null, string | null]> = {};
      for (const username of usernames) {
        const row = await runtime.services.userReader.mustFindRow(username);
        const scheme = row.password_hash ? runtime.services.credentials.schemeOf(row.password_hash) : null;
        out[username] = [scheme, row.password_origin];
      }
      return out;
    } finally {
      await runtime.close();
    }
  }

  /** Whether a Warden serving this data directory lets `username` in over MQTT with `password`. */
  async function mqttAccepts(username: string, password: string): Promise<boolean> {
    const runtime = await openRuntime(loadConfig(env));
    const stop = await startServices(runtime.services);
    const broker = await startLocalBroker(runtime.services);
    try {
      return await mqtt
        .connectAsync(broker.url as string, {
          username,
          password,
          clientId: `${username}-cli-test`,
          reconnectPeriod: 0,
          connectTimeout: 5_000,
          protocolVersion: 4,
        })
        .then(
          async (client) => {
            await client.endAsync(true);
            return true;
          },
          () => false,
        );
    } finally {
      await broker.close();
      await stop();
      await runtime.close();
    }
  }

  it('create: a device or service gets a keyed-hash secret, a person a one-time argon2id password', async () => {
    const device = await cli('users', 'create', 'plc-01', '--kind', 'device');
    expect(device.code, device.err).toBe(0);
    const secret = printedSecret(device);
    expect(recognizeGeneratedSecret(secret)).toBe(secret);
    expect((await cli('users', 'create', 'mes-01', '--kind', 'service')).code).toBe(0);
    const person = await cli('users', 'create', 'alice', '--role', 'admin');
    expect(person.out).toContain('must be changed at first login');
    const typed = await piped(TYPED, 'users', 'create', 'plc-typed', '--kind', 'device', '--password-stdin');
    expect(typed.code, typed.err).toBe(0);
    expect(typed.out).not.toContain('shown once');
    expect(await records('plc-01', 'mes-01', 'alice', 'plc-typed')).toEqual({
      'plc-01': ['keyed', 'generated'],
      'mes-01': ['keyed', 'generated'],
      alice: ['argon2id', 'generated'],
      'plc-typed': ['argon2id', 'chosen'],
    });
    expect(await mqttAccepts('plc-01', secret)).toBe(true);
    expect(await mqttAccepts('plc-typed', TYPED)).toBe(true);
  });

  it('passwd: generated for a device is a keyed-hash secret; piped, or for a person, argon2id', async () => {
    const generated = await cli('users', 'passwd', 'plc-typed');
    expect(generated.code, generated.err).toBe(0);
    const piped1 = await piped(TYPED, 'users', 'passwd', 'plc-01', '--password-stdin');
    expect(piped1.code, piped1.err).toBe(0);
    const person = await cli('users', 'passwd', 'alice');
    expect(person.out).toContain('must be changed at next login');
    expect(await records('plc-typed', 'plc-01', 'alice')).toEqual({
      'plc-typed': ['keyed', 'generated'],
      'plc-01': ['argon2id', 'chosen'],
      alice: ['argon2id', 'generated'],
    });
    expect(await mqttAccepts('plc-typed', printedSecret(generated))).toBe(true);
  });

  it('rotate-secret: prints the new secret once and how long the old one lasts; JSON for scripts', async () => {
    const now = await cli('users', 'rotate-secret', 'mes-01');
    expect(now.code, now.err).toBe(0);
    expect(now.out).toContain('The previous secret no longer works');
    const graced = await cli('users', 'rotate-secret', 'mes-01', '--grace-minutes', '90', '--json');
    expect(graced.code, graced.err).toBe(0);
    const answer = JSON.parse(graced.out);
    expect(answer).toMatchObject({ username: 'mes-01', secret: expect.any(String) });
    expect(Date.parse(answer.previousSecretValidUntil) - Date.now()).toBeGreaterThan(80 * 60_000);
    expect(await records('mes-01')).toEqual({ 'mes-01': ['keyed', 'generated'] });
    expect(await mqttAccepts('mes-01', answer.secret)).toBe(true);
    expect(await mqttAccepts('mes-01', printedSecret(now))).toBe(true);
  });

  it('rotate-secret: refused for a person (user.not_machine) and for a grace period above a week', async () => {
    const person = await cli('users', 'rotate-secret', 'alice', '--json');
    expect(person.code).toBe(1);
    expect(JSON.parse(person.err)).toMatchObject({ code: 'user.not_machine', status: 409 });
    const tooLong = await cli('users', 'rotate-secret', 'mes-01', '--grace-minutes', '10081');
    expect(tooLong.code).toBe(1);
    expect(tooLong.err).toContain('request.invalid');
    const help = await cli('users', 'rotate-secret', '--help');
    expect(help.out).toContain('--grace-minutes');
  });
});
