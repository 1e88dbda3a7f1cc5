import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRootUser } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/config.js';
import { SECRET_KEY_FILE } from '../../src/core/crypto/secret-key.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { type CliResult, runCliCaptured } from '../helpers/cli.js';
import { STRONG_PASSWORD, totpCode } from '../helpers/test-app.js';

const META = { ip: '192.0.2.1', userAgent: 'cli-test' };

describe('warden sessions / settings / users reset-mfa', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let bobSessions: string[];

  async function withRuntime<T>(work: (runtime: Runtime) => Promise<T>): Promise<T> {
    const runtime = await openRuntime(loadConfig(env));
    try {
      return await work(runtime);
    } finally {
      await runtime.close();
    }
  }

  const cli = (...argv: string[]): Promise<CliResult> => runCliCaptured(env, argv);

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-auth-cli-'));
    env = { WARDEN_DATA_DIR: dataDir, WARDEN_LOG_LEVEL: 'silent' };
    bobSessions = await withRuntime(async ({ services }) => {
      await ensureRootUser(services, 'Root-Passw0rd!');
      await services.users.create(CLI_CONTEXT, {
        username: 'bob',
        password: STRONG_PASSWORD,
        role: 'operator',
      });
      await services.users.create(CLI_CONTEXT, {
        username: 'carol',
        password: STRONG_PASSWORD,
        role: 'viewer',
      });
      const tokens = [];
      for (const name of ['bob', 'bob', 'carol']) {
        tokens.push((await services.auth.login(META, 'req', name, STRONG_PASSWORD)).token);
      }
      return tokens.slice(0, 2).map((token) => token.split('.')[0] as string);
    });
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('generated the secret key into the data dir, readable only by its owner', () => {
    const stat = fs.statSync(path.join(dataDir, SECRET_KEY_FILE));
    expect(stat.mode & 0o777).toBe(0o600);
  });

  it('sessions list: a table by default, JSON with --json, one user with --user', async () => {
    const table = await cli('sessions', 'list');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^ID\s+USERNAME\s+STAGE/);
    expect(table.out).toContain('cli-test');
    expect(table.out).toMatch(/3 of 3\n$/);
    const json = JSON.parse((await cli('sessions', 'list', '--user', 'bob', '--json')).out);
    expect(json.total).toBe(2);
    expect(json.items.map((s: { id: string }) => s.id).sort()).toEqual([...bobSessions].sort());
    expect(JSON.stringify(json)).not.toMatch(/token|hash/i);
    const unknown = await cli('sessions', 'list', '--user', 'ghost', '--json');
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.err).code).toBe('user.not_found');
  });

  it('sessions revoke <id> and --user, audited with actor cli', async () => {
    const one = await cli('sessions', 'revoke', bobSessions[0] as string);
    expect(one.code).toBe(0);
    expect(one.out).toContain(bobSessions[0]);
    const again = await cli('sessions', 'revoke', bobSessions[0] as string, '--json');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.err).code).toBe('session.not_found');
    const all = JSON.parse((await cli('sessions', 'revoke', '--user', 'carol', '--json')).out);
    expect(all).toEqual({ username: 'carol', ended: 1 });
    expect((await cli('sessions', 'revoke')).code).toBe(2);
    const events = await withRuntime(({ services }) =>
      services.audit.list({ action: 'session.revoke' }, 1, 25),
    );
    expect(events.items.map((e) => [e.actor.name, e.target])).toEqual([
      ['cli', 'user:carol'],
      ['cli', 'user:bob'],
    ]);
    expect(JSON.parse((await cli('sessions', 'list', '--json')).out).total).toBe(1);
  });

  it('users reset-mfa clears the authenticator; the user enrols again at the next login', async () => {
    // Enrol bob, then reopen: the persisted key still opens the sealed secret.
    const secret = await withRuntime(async ({ services }) => {
      const row = await services.userReader.findRow('bob');
      const ctx = {
        ...CLI_CONTEXT,
        actor: {
          type: 'user',
          userId: row?.id ?? '',
          username: 'bob',
          role: 'operator',
          scopes: [],
          sessionId: '',
        },
      } as const;
      const { secret: base32 } = await services.mfa.beginTotp(ctx);
      await services.mfa.confirmTotp(ctx, totpCode(base32, Date.now()));
      return base32;
    });
    await withRuntime(async ({ services, handle }) => {
      const row = await services.userReader.findRow('bob');
      expect(await services.mfa.status(row?.id ?? '')).toEqual({ enabled: true, enrollRequired: false });
      const outcome = await handle.db.transaction().execute((trx) =>
        services.mfa.verifyLoginFactor(trx, row?.id ?? '', {
          code: totpCode(secret, Date.now(), 1),
        }),
      );
      expect(outcome.ok).toBe(true);
    });

    const reset = await cli('users', 'reset-mfa', 'bob');
    expect(reset.code).toBe(0);
    expect(reset.out).toContain('bob');
    const missing = await cli('users', 'reset-mfa', 'ghost', '--json');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.err).code).toBe('user.not_found');

    await withRuntime(async ({ services }) => {
      const row = await services.userReader.findRow('bob');
      expect(await services.mfa.status(row?.id ?? '')).toEqual({ enabled: false, enrollRequired: true });
      const login = await services.auth.login(META, 'req', 'bob', STRONG_PASSWORD);
      expect(login.next).toBe('mfa_enroll');
      const [event] = (await services.audit.list({ action: 'user.mfa_reset' }, 1, 25)).items;
      expect(event).toMatchObject({ actor: { name: 'cli' }, target: 'user:bob' });
    });
  });

  it('settings get: every key with its value, one key, or JSON', async () => {
    const all = await cli('settings', 'get');
    expect(all.code).toBe(0);
    expect(all.out).toContain('passwordPolicy.minLength = 8\n');
    expect(all.out).toContain('mfaRequiredRoles = none\n');
    expect(all.out).toContain('throttle.windowMinutes = 15\n');
    expect(all.out).toContain('mqtt.denyAction = ignore\n');
    expect((await cli('settings', 'get', 'security')).out).toBe(all.out);
    expect((await cli('settings', 'get', 'defaultSessionTimeoutMinutes')).out).toBe('30\n');
    expect(JSON.parse((await cli('settings', 'get', '--json')).out).absoluteSessionHours).toBe(12);
    expect((await cli('settings', 'get', 'nope')).code).toBe(2);
  });

  it('settings set converts the value to the setting’s type and validates through the same schema', async () => {
    const min = await cli('settings', 'set', 'passwordPolicy.minLength', '12');
    expect(min.code).toBe(0);
    expect(min.out).toBe('passwordPolicy.minLength: 8 -> 12\n');
    expect((await cli('settings', 'set', 'mfaRequiredRoles', 'admin,operator')).code).toBe(0);
    expect((await cli('settings', 'set', 'passwordPolicy.requireSpecial', 'false')).code).toBe(0);
    const json = JSON.parse((await cli('settings', 'get', '--json')).out);
    expect(json.passwordPolicy).toMatchObject({ minLength: 12, requireSpecial: false });
    expect(json.mfaRequiredRoles).toEqual(['admin', 'operator']);
    expect(JSON.parse((await cli('settings', 'set', 'mfaRequiredRoles', 'none', '--json')).out)).toEqual({
      mfaRequiredRoles: [],
    });
    expect((await cli('settings', 'set', 'mqtt.denyAction', 'disconnect')).out).toBe(
      'mqtt.denyAction: ignore -> disconnect\n',
    );

    for (const [key, value] of [
      ['passwordPolicy.minLength', '0'],
      ['passwordPolicy.minLength', 'twelve'],
      ['passwordPolicy.requireDigit', 'maybe'],
      ['mfaRequiredRoles', 'root'],
      ['absoluteSessionHours', '1.5'],
      ['mqtt.denyAction', 'kick'],
    ] as const) {
      const res = await cli('settings', 'set', key, value, '--json');
      expect(res.code, `${key}=${value}`).toBe(1);
      expect(JSON.parse(res.err).code).toBe('settings.invalid');
    }
    expect((await cli('settings', 'set', 'passwordPolicy', '3')).code).toBe(2);
    expect((await cli('settings', 'set', 'unknown.key', '3')).code).toBe(2);

    const events = await withRuntime(({ services }) =>
      services.audit.list({ action: 'settings.update' }, 1, 25),
    );
    expect(events.total).toBe(5);
    expect(events.items.every((e) => e.actor.name === 'cli')).toBe(true);
    expect(events.items.at(-1)?.details).toMatchObject({
      before: { passwordPolicy: { minLength: 8 } },
      after: { passwordPolicy: { minLength: 12 } },
    });
  });
});
