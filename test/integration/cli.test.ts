import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { openRuntime } from '../../src/runtime.js';
import { type CliResult, createCliDataDir, runCliCaptured } from '../helpers/cli.js';

describe('warden CLI', () => {
  let env: Record<string, string>;
  let remove: () => void;

  beforeAll(async () => {
    ({ env, remove } = await createCliDataDir('warden-cli-'));
  });
  afterAll(() => remove());

  const cli = (...argv: string[]): Promise<CliResult> => runCliCaptured(env, argv);

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
    expect(note).toMatch(/Generated password .*: \S{20,}/);

    const bad = await cli('users', 'create', 'x', '--role', 'viewer', '--password', 'Str0ng-Passw0rd!');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('request.invalid');
    const dup = await cli(
      'users',
      'create',
      'PLC-01',
      '--role',
      'viewer',
      '--password',
      'Str0ng-Passw0rd!',
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
    expect((await cli('users', 'passwd', 'plc-01', '--password', 'An0ther-Passw0rd!')).code).toBe(0);
    expect((await cli('users', 'passwd', 'plc-01', '--password', 'weak')).err).toContain('password.policy');
    expect(JSON.parse((await cli('users', 'deactivate', 'plc-01', '--json')).out).active).toBe(false);
    expect(JSON.parse((await cli('users', 'reactivate', 'plc-01', '--json')).out).active).toBe(true);
    expect((await cli('users', 'delete', 'plc-01')).code).toBe(0);
    const root = await cli('users', 'delete', 'admin');
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

  it('migrate is idempotent', async () => {
    expect((await cli('migrate')).out).toContain('up to date');
  });
});
