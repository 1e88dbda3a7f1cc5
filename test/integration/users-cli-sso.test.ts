import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { openRuntime } from '../../src/runtime.js';
import { type CliResult, createCliDataDir, runCliCaptured } from '../helpers/cli.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { addTestProvider } from '../helpers/sso.js';

/**
 * `warden users create|update --auth sso|local --provider NAME` (docs/sso.md#users-and-the-authentication-method):
 * the same service, checks and audit as the API, with the one-time password of a switch back to local printed once.
 */
describe('users CLI: authentication method', () => {
  let env: Record<string, string>;
  let remove: () => void;
  let op: TestOidcProvider;

  beforeAll(async () => {
    ({ env, remove } = await createCliDataDir('warden-cli-sso-'));
    op = await startOidcProvider({ clients: [] });
    const runtime = await openRuntime(loadConfig(env));
    try {
      await addTestProvider(runtime.services, op);
    } finally {
      await runtime.close();
    }
  });
  afterAll(async () => {
    await op?.stop();
    remove?.();
  });

  const cli = (...argv: string[]): Promise<CliResult> => runCliCaptured(env, argv);

  async function row(username: string) {
    const runtime = await openRuntime(loadConfig(env));
    try {
      return await runtime.services.userReader.mustFindRow(username);
    } finally {
      await runtime.close();
    }
  }

  it('creates an SSO user without any password, and refuses what an SSO user cannot be', async () => {
    const created = await cli(
      'users',
      'create',
      'alice',
      '--auth',
      'sso',
      '--provider',
      'test-op',
      '--email',
      'alice@example.com',
      '--json',
    );
    expect(created.code, created.err).toBe(0);
    expect(JSON.parse(created.out)).toMatchObject({
      username: 'alice',
      authMethod: 'sso',
      ssoProvider: 'test-op',
    });
    expect(created.out).not.toContain('shown once');
    expect((await row('alice')).password_hash).toBeNull();

    for (const [argv, code] of [
      [['users', 'create', 'bob', '--auth', 'sso', '--provider', 'test-op'], 'user.email_required'],
      [
        ['users', 'create', 'bob', '--auth', 'sso', '--provider', 'nope', '--email', 'b@example.com'],
        'user.sso_provider_unknown',
      ],
      [['users', 'create', 'bob', '--provider', 'test-op'], 'user.auth_method_invalid'],
      [['users', 'create', 'bob', '--auth', 'ldap'], 'request.invalid'],
    ] as const) {
      const refused = await cli(...argv);
      expect(refused.code, argv.join(' ')).toBe(1);
      expect(refused.err, argv.join(' ')).toContain(code);
    }
    const piped = await runCliCaptured(
      env,
      [
        'users',
        'create',
        'carl',
        '--auth',
        'sso',
        '--provider',
        'test-op',
        '--email',
        'c@example.com',
        '--password-stdin',
      ],
      { stdin: 'Str0ng-Passw0rd!\n' },
    );
    expect(piped.code).toBe(1);
    expect(piped.err).toContain('user.sso_password');

    const list = await cli('users', 'list');
    expect(list.out).toContain('AUTH METHOD');
    expect(list.out).toMatch(/alice\s+viewer\s+true\s+person\s+sso/);
  });

  it('switches a user to local with a one-time password printed once, and back to sso', async () => {
    await cli(
      'users',
      'create',
      'dana',
      '--auth',
      'sso',
      '--provider',
      'test-op',
      '--email',
      'dana@example.com',
    );
    const local = await cli('users', 'update', 'dana', '--auth', 'local');
    expect(local.code, local.err).toBe(0);
    const password = /shown once, must be changed at next login\): (\S+)\n/.exec(local.out)?.[1];
    expect(password).toBeDefined();
    expect(await row('dana')).toMatchObject({ auth_method: 'local', must_change_password: 1 });

    const runtime = await openRuntime(loadConfig(env));
    try {
      const login = await runtime.services.auth.login(
        { ip: '127.0.0.1', userAgent: 'test' },
        'req-1',
        'dana',
        password as string,
      );
      expect(login.next).toBe('password_change');
    } finally {
      await runtime.close();
    }

    const sso = await cli('users', 'update', 'dana', '--auth', 'sso', '--json');
    expect(sso.code, sso.err).toBe(0);
    // Back to the provider the user had.
    expect(JSON.parse(sso.out)).toMatchObject({ authMethod: 'sso', ssoProvider: 'test-op' });
    expect(JSON.parse(sso.out).generatedPassword).toBeUndefined();
    const root = await cli('users', 'update', 'admin', '--auth', 'sso', '--provider', 'test-op');
    expect(root.code).toBe(1);
    expect(root.err).toContain('user.protected');
  });
});
