import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMapGroup } from '../../src/cli/commands/sso.command.js';
import { loadConfig } from '../../src/config/config.js';
import { openRuntime } from '../../src/runtime.js';
import { type CliInput, type CliResult, createCliDataDir, runCliCaptured } from '../helpers/cli.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../helpers/sso.js';

const FILE_SECRET = 'secret-from-a-file-0a1b2c3d';

describe('warden sso providers CLI', () => {
  let env: Record<string, string>;
  let remove: () => void;
  let op: TestOidcProvider;
  let secretFile: string;

  beforeAll(async () => {
    ({ env, remove } = await createCliDataDir('warden-sso-cli-'));
    op = await startOidcProvider({
      clients: [
        { clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET, redirectUris: ['http://x/cb'] },
      ],
    });
    secretFile = path.join(env.WARDEN_DATA_DIR as string, 'corp-secret');
    fs.writeFileSync(secretFile, `${FILE_SECRET}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await op.stop();
    remove();
  });

  const cli = (argv: string[], input: CliInput = {}): Promise<CliResult> => runCliCaptured(env, argv, input);

  /** The provider as the sign-in code would read it (with the opened secret). */
  async function stored(name: string) {
    const runtime = await openRuntime(loadConfig(env));
    try {
      return await runtime.services.ssoProviders.find(name);
    } finally {
      await runtime.close();
    }
  }

  it('creates with the secret from stdin, shows and lists without it, updates, tests, disables and deletes', async () => {
    const created = await cli(
      [
        'sso',
        'providers',
        'create',
        'corp',
        '--preset',
        'keycloak',
        '--issuer',
        op.issuer,
        '--client-id',
        TEST_CLIENT_ID,
        '--client-secret-stdin',
        '--display-name',
        'Corporate login',
        '--auto-provision',
        '--map-group',
        'plant-operators=operator',
        '--map-group',
        'CN=auditors,OU=groups=viewer:log_management',
        '--json',
      ],
      { stdin: `${TEST_CLIENT_SECRET}\n` },
    );
    expect(created.code, created.err).toBe(0);
    expect(JSON.parse(created.out)).toMatchObject({
      name: 'corp',
      preset: 'keycloak',
      hasClientSecret: true,
      autoProvision: true,
      groupsClaim: 'groups',
      roleMapping: [
        { value: 'plant-operators', role: 'operator' },
        { value: 'CN=auditors,OU=groups', role: 'viewer', scopes: ['log_management'] },
      ],
    });
    expect(created.out).not.toContain(TEST_CLIENT_SECRET);
    expect((await stored('corp'))?.clientSecret).toBe(TEST_CLIENT_SECRET);

    const shown = await cli(['sso', 'providers', 'show', 'corp']);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('client secret:   stored');
    expect(shown.out).toContain('/api/v1/auth/sso/corp/callback');
    expect(shown.out).toMatch(/CN=auditors,OU=groups\s+viewer\s+log_management/);
    const listed = await cli(['sso', 'providers', 'list']);
    expect(listed.out).toMatch(
      /corp\s+Corporate login\s+keycloak\s+http:\/\/127\.0\.0\.1:\d+\s+true\s+true\s+2/,
    );
    for (const output of [shown.out, listed.out]) expect(output).not.toContain(TEST_CLIENT_SECRET);

    const updated = await cli([
      'sso',
      'providers',
      'update',
      'corp',
      '--client-secret-file',
      secretFile,
      '--no-auto-provision',
      '--clear-mapping',
      '--json',
    ]);
    expect(updated.code, updated.err).toBe(0);
    expect(JSON.parse(updated.out)).toMatchObject({
      autoProvision: false,
      roleMapping: [],
      displayName: 'Corporate login',
    });
    expect((await stored('corp'))?.clientSecret).toBe(FILE_SECRET);

    const tested = await cli(['sso', 'providers', 'test', 'corp']);
    expect(tested.code, tested.out).toBe(0);
    expect(tested.out).toContain(`authorization endpoint: ${op.issuer}/auth`);

    expect((await cli(['sso', 'providers', 'disable', 'corp'])).code).toBe(0);
    expect((await stored('corp'))?.enabled).toBe(false);
    expect((await cli(['sso', 'providers', 'enable', 'corp'])).code).toBe(0);
    expect((await stored('corp'))?.enabled).toBe(true);

    const publicClient = await cli(['sso', 'providers', 'update', 'corp', '--public-client', '--json']);
    expect(JSON.parse(publicClient.out).hasClientSecret).toBe(false);

    expect((await cli(['sso', 'providers', 'delete', 'corp'])).code).toBe(0);
    expect(await stored('corp')).toBeUndefined();

    const runtime = await openRuntime(loadConfig(env));
    try {
      const events = await runtime.services.audit.list({ target: 'sso_provider:corp' }, 1, 25);
      expect(events.items.map((event) => [event.action, event.actor.name])).toEqual([
        ['sso_provider.delete', 'cli'],
        ['sso_provider.update', 'cli'],
        ['sso_provider.update', 'cli'],
        ['sso_provider.update', 'cli'],
        ['sso_provider.update', 'cli'],
        ['sso_provider.create', 'cli'],
      ]);
      const text = JSON.stringify(events);
      expect(text).not.toContain(TEST_CLIENT_SECRET);
      expect(text).not.toContain(FILE_SECRET);
    } finally {
      await runtime.close();
    }
  });

  it("test exits 1 with the provider's error; failures print the error code", async () => {
    const created = await cli([
      'sso',
      'providers',
      'create',
      'broken',
      '--issuer',
      `${op.issuer}/realms/missing`,
      '--client-id',
      'x',
    ]);
    expect(created.code, created.err).toBe(0);
    const tested = await cli(['sso', 'providers', 'test', 'broken']);
    expect(tested.code).toBe(1);
    expect(tested.out).toMatch(/broken: discovery failed: unexpected HTTP response status code \(HTTP 404/);

    const refused = await cli([
      'sso',
      'providers',
      'create',
      'plain',
      '--issuer',
      'http://example.com',
      '--client-id',
      'x',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('error sso.issuer_invalid');
    const unknown = await cli(['sso', 'providers', 'show', 'nope', '--json']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.err)).toMatchObject({ code: 'sso.provider_not_found', status: 404 });
    const badRole = await cli(['sso', 'providers', 'update', 'broken', '--map-group', 'ops=root']);
    expect(badRole.code).toBe(1);
    expect(badRole.err).toContain('error request.invalid');
  });

  it('never takes the secret as an argument, and says what to do instead', async () => {
    for (const form of [['--client-secret', 'hunter2-visible'], ['--client-secret=hunter2-visible']]) {
      const res = await cli([
        'sso',
        'providers',
        'create',
        'leak',
        '--issuer',
        op.issuer,
        '--client-id',
        'x',
        ...form,
      ]);
      expect(res.code).toBe(2);
      expect(res.err).toContain('--client-secret-stdin');
      expect(res.err).not.toContain('hunter2-visible');
    }
    const both = await cli(
      [
        'sso',
        'providers',
        'create',
        'leak',
        '--issuer',
        op.issuer,
        '--client-id',
        'x',
        '--client-secret-stdin',
        '--client-secret-file',
        secretFile,
      ],
      { stdin: 'x\n' },
    );
    expect(both.code).toBe(2);
    expect(await stored('leak')).toBeUndefined();
  });

  it('explains itself: warden sso providers --help lists every subcommand with its options', async () => {
    const help = await cli(['sso', 'providers', '--help']);
    expect(help.code).toBe(0);
    for (const sub of ['list', 'show', 'create', 'update', 'enable', 'disable', 'delete', 'test'])
      expect(help.out).toContain(`warden sso providers ${sub}`);
    expect(help.out).toContain('--map-group VALUE=ROLE[:scope,scope]');
    const usage = await cli(['sso', 'providers', 'frobnicate']);
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('unknown subcommand "sso providers frobnicate"');
  });

  it('parses --map-group values that hold = and :', () => {
    expect(parseMapGroup('admins=admin')).toEqual({ value: 'admins', role: 'admin' });
    expect(parseMapGroup('CN=ops,DC=x=operator:asset_management,log_management')).toEqual({
      value: 'CN=ops,DC=x',
      role: 'operator',
      scopes: ['asset_management', 'log_management'],
    });
    expect(parseMapGroup('readers=viewer:')).toEqual({ value: 'readers', role: 'viewer', scopes: [] });
    expect(() => parseMapGroup('=admin')).toThrow(/VALUE=ROLE/);
    expect(() => parseMapGroup('admins')).toThrow(/VALUE=ROLE/);
  });
});
