import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { openRuntime } from '../../src/runtime.js';
import { type CliInput, type CliResult, createCliDataDir, runCliCaptured } from '../helpers/cli.js';

/** Every command and its subcommands, as a user would type them (kept by hand: a new one belongs here too). */
const COMMANDS: Readonly<Record<string, readonly string[]>> = {
  serve: [],
  migrate: [],
  'recover-admin': [],
  users: [
    'list',
    'create',
    'update',
    'passwd',
    'rotate-secret',
    'deactivate',
    'reactivate',
    'delete',
    'reset-mfa',
  ],
  'access-roles': ['list', 'show', 'create', 'add-rule', 'delete'],
  access: ['explain', 'effective'],
  sessions: ['list', 'revoke'],
  settings: ['get', 'set'],
  brokers: ['list', 'add', 'update', 'remove', 'status', 'sync'],
  mosquitto: ['sync', 'export-dynsec'],
  'scrape-tokens': ['list', 'create', 'delete'],
};

describe('warden CLI', () => {
  let env: Record<string, string>;
  let remove: () => void;

  beforeAll(async () => {
    ({ env, remove } = await createCliDataDir('warden-cli-'));
  });
  afterAll(() => remove());

  const cli = (...argv: string[]): Promise<CliResult> => runCliCaptured(env, argv);
  const cliWith = (input: CliInput, ...argv: string[]): Promise<CliResult> =>
    runCliCaptured(env, argv, input);
  const stdinPassword = (password: string): CliInput => ({ stdin: `${password}\n` });

  it('creates a user with a generated password printed once, through the same validation as the API', async () => {
    const created = await cli(
      'users',
      'create',
      'plc-01',
      '--role',
      'operator',
      '--kind',
      'device',
      '--json',
    );
    expect(created.code).toBe(0);
    const [json, note] = created.out.split('\n}\n');
    expect(JSON.parse(`${json}\n}`)).toMatchObject({ username: 'plc-01', role: 'operator', kind: 'device' });
    expect(note).toMatch(/Generated MQTT password .*: \S{20,}/);

    const bad = await cliWith(
      stdinPassword('Str0ng-Passw0rd!'),
      'users',
      'create',
      'x',
      '--role',
      'viewer',
      '--password-stdin',
    );
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('request.invalid');
    const dup = await cliWith(
      stdinPassword('Str0ng-Passw0rd!'),
      'users',
      'create',
      'PLC-01',
      '--role',
      'viewer',
      '--password-stdin',
      '--json',
    );
    expect(dup.code).toBe(1);
    expect(JSON.parse(dup.err)).toMatchObject({ code: 'user.exists', status: 409 });
  });

  it('lists users as a table or JSON', async () => {
    const table = await cli('users', 'list');
    expect(table.out).toMatch(/^USERNAME\s+ROLE/);
    expect(table.out).toContain('plc-01');
    const json = JSON.parse((await cli('users', 'list', '--json', '--role', 'admin')).out);
    expect(json.items.map((u: { username: string }) => u.username)).toEqual(['admin']);
  });

  it('changes passwords, deactivates, reactivates and deletes, with business rules intact', async () => {
    const passwd = (password: string): Promise<CliResult> =>
      cliWith(stdinPassword(password), 'users', 'passwd', 'plc-01', '--password-stdin');
    expect((await passwd('An0ther-Passw0rd!')).code).toBe(0);
    expect((await passwd('weak')).err).toContain('password.policy');
    expect(JSON.parse((await cli('users', 'deactivate', 'plc-01', '--json')).out).active).toBe(false);
    expect(JSON.parse((await cli('users', 'reactivate', 'plc-01', '--json')).out).active).toBe(true);
    expect((await cli('users', 'delete', 'plc-01', '--yes')).code).toBe(0);
    const root = await cli('users', 'delete', 'admin', '--yes');
    expect(root.code).toBe(1);
    expect(root.err).toContain('user.protected');
    const last = await cli('users', 'deactivate', 'admin');
    expect(last.err).toContain('user.last_admin');
  });

  it('recover-admin resets root: new password printed once, reactivated, audited as cli', async () => {
    const out = await cli('recover-admin', '--json');
    expect(out.code).toBe(0);
    const { username, password, mustChangePassword } = JSON.parse(out.out);
    expect({ username, mustChangePassword }).toEqual({ username: 'admin', mustChangePassword: true });
    expect(password.length).toBeGreaterThanOrEqual(20);
    const runtime = await openRuntime(loadConfig(env));
    try {
      const events = await runtime.services.audit.list({ action: 'user.recover_admin' }, 1, 25);
      expect(events.items[0]).toMatchObject({ actor: { type: 'cli', name: 'cli' }, target: 'user:admin' });
      expect(JSON.stringify(events)).not.toContain(password);
      const login = await runtime.services.auth.login(
        { ip: '127.0.0.1', userAgent: 'test' },
        'cli-test',
        'admin',
        password,
      );
      expect(login.next).toBe('password_change');
    } finally {
      await runtime.close();
    }
  });

  it('exits 2 with usage on unknown commands and bad flags', async () => {
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('users', 'list', '--bogus')).code).toBe(2);
    expect((await cli('users')).err).toContain('warden users list');
  });

  it('prints table headers as separate words (MFA ENABLED, LAST LOGIN AT), not run together', async () => {
    const [header] = (await cli('users', 'list')).out.split('\n');
    expect(header?.split(/ {2,}/)).toEqual([
      'USERNAME',
      'ROLE',
      'ACTIVE',
      'KIND',
      'AUTH METHOD',
      'EMAIL',
      'MFA ENABLED',
      'LAST LOGIN AT',
    ]);
    const [sessionsHeader] = (await cli('sessions', 'list')).out.split('\n');
    expect(sessionsHeader).toContain('CREATED AT');
    expect(sessionsHeader).toContain('USER AGENT');
  });

  it('refuses --password (a secret in `ps` and the shell history) and points to --password-stdin', async () => {
    const secret = 'Visible-Passw0rd!';
    for (const argv of [
      ['users', 'create', 'pw-flag', '--role', 'viewer', '--password', secret],
      ['users', 'create', 'pw-flag', '--role', 'viewer', `--password=${secret}`],
      ['users', 'passwd', 'admin', '--password', secret],
    ]) {
      const refused = await cli(...argv);
      expect(refused.code, argv.join(' ')).toBe(2);
      expect(refused.err).toContain('--password-stdin');
      expect(refused.err).toMatch(/generated/);
      expect(`${refused.out}${refused.err}`).not.toContain(secret);
    }
    expect(JSON.parse((await cli('users', 'list', '--search', 'pw-flag', '--json')).out).total).toBe(0);
    for (const sub of ['create', 'passwd']) {
      const help = await cli('users', sub, '--help');
      expect(help.out).toContain('--password-stdin');
      expect(help.out).not.toMatch(/--password\b(?!-)/);
    }

    const piped = await cliWith(
      stdinPassword('Piped-Passw0rd!'),
      'users',
      'create',
      'pw-stdin',
      '--password-stdin',
      '--json',
    );
    expect(piped.code, piped.err).toBe(0);
    expect(JSON.parse(piped.out)).toMatchObject({ username: 'pw-stdin', mustChangePassword: false });
    expect(piped.out).not.toContain('Piped-Passw0rd!');
    const runtime = await openRuntime(loadConfig(env));
    try {
      const login = await runtime.services.auth.login(
        { ip: '127.0.0.1', userAgent: 'test' },
        'cli-test',
        'pw-stdin',
        'Piped-Passw0rd!',
      );
      expect(login.next).toBeNull();
    } finally {
      await runtime.close();
    }
  });

  it('answers --help and -h for every command and subcommand with exit 0, without opening the database', async () => {
    const dataDir = path.join(os.tmpdir(), `warden-cli-help-${process.pid}-${Date.now()}`);
    const helpEnv = { WARDEN_DATA_DIR: dataDir, WARDEN_LOG_LEVEL: 'silent' };
    const help = (...argv: string[]): Promise<CliResult> => runCliCaptured(helpEnv, argv);
    try {
      const top = await help('--help');
      expect(top.code).toBe(0);
      for (const command of Object.keys(COMMANDS))
        expect(top.out).toMatch(new RegExp(`^  ${command}\\s`, 'm'));
      for (const [command, subcommands] of Object.entries(COMMANDS)) {
        for (const sub of subcommands.length > 0 ? subcommands : ['']) {
          const argv = [command, sub].filter(Boolean);
          for (const flag of ['--help', '-h']) {
            const res = await help(...argv, flag);
            expect(res.code, `${argv.join(' ')} ${flag}: ${res.err}`).toBe(0);
            expect(res.err).toBe('');
            expect(res.out).toMatch(new RegExp(`^Usage: warden ${argv.join(' ')}(\\s|$)`, 'm'));
          }
        }
        if (subcommands.length > 0) {
          const group = await help(command, '--help');
          expect(group.code).toBe(0);
          for (const sub of subcommands)
            expect(group.out).toMatch(new RegExp(`^  warden ${command} ${sub}(\\s|$)`, 'm'));
        }
      }
      // Options are described, not only named.
      expect((await help('access-roles', 'create', '--help')).out).toMatch(/--description D\s+\S/);
      expect(fs.existsSync(dataDir)).toBe(false);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('users delete asks on a terminal and, without one, refuses unless --yes', async () => {
    const exists = async (username: string): Promise<boolean> =>
      (await cli('users', 'list', '--search', username, '--all', '--json')).out.includes(`"${username}"`);
    await cli('users', 'create', 'doomed', '--role', 'viewer');
    await cli('users', 'create', 'doomed-2', '--role', 'viewer');

    const scripted = await cli('users', 'delete', 'doomed');
    expect(scripted.code).toBe(2);
    expect(scripted.err).toContain('--yes');
    expect(await exists('doomed')).toBe(true);

    const declined = await cliWith({ tty: true, stdin: 'n\n' }, 'users', 'delete', 'doomed');
    expect(declined.err).toMatch(/Delete .*doomed.*\[y\/N\]/);
    expect(declined.code).toBe(1);
    expect(await exists('doomed')).toBe(true);

    const confirmed = await cliWith({ tty: true, stdin: 'y\n' }, 'users', 'delete', 'doomed');
    expect(confirmed.code, confirmed.err).toBe(0);
    expect(confirmed.out).toBe('Deleted doomed\n');
    expect(await exists('doomed')).toBe(false);

    const yes = await cli('users', 'delete', 'doomed-2', '--yes', '--json');
    expect(yes.code, yes.err).toBe(0);
    expect(JSON.parse(yes.out)).toEqual({ deleted: 'doomed-2' });
    expect(await exists('doomed-2')).toBe(false);
  });

  it('a generated device or service password is its MQTT password, not marked must-change; a person’s is', async () => {
    for (const kind of ['device', 'service'] as const) {
      const created = await cli('users', 'create', `gen-${kind}`, '--kind', kind, '--json');
      expect(created.code, created.err).toBe(0);
      const [json, note] = created.out.split('\n}\n');
      expect(JSON.parse(`${json}\n}`)).toMatchObject({ kind, mustChangePassword: false });
      expect(note).toMatch(/MQTT password .*shown once.*: \S{20,}\n$/);
      expect(note).not.toMatch(/must be changed/);
      const renewed = await cli('users', 'passwd', `gen-${kind}`);
      expect(renewed.out).toMatch(/MQTT password .*shown once.*: \S{20,}\n$/);
      expect(
        JSON.parse((await cli('users', 'list', '--search', `gen-${kind}`, '--json')).out).items[0],
      ).toMatchObject({ mustChangePassword: false });
    }
    const person = await cli('users', 'create', 'gen-person', '--json');
    const [json, note] = person.out.split('\n}\n');
    expect(JSON.parse(`${json}\n}`)).toMatchObject({ kind: 'person', mustChangePassword: true });
    expect(note).toMatch(/must be changed at first login.*: \S{20,}\n$/);
  });

  it('migrate is idempotent', async () => {
    expect((await cli('migrate')).out).toContain('up to date');
  });
});
