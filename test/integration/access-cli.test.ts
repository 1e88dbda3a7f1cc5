import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, createCliDataDir, runCliCaptured } from '../helpers/cli.js';

describe('warden access-roles / access CLI', () => {
  let env: Record<string, string>;
  let remove: () => void;

  beforeAll(async () => {
    ({ env, remove } = await createCliDataDir('warden-access-cli-'));
  });
  afterAll(() => remove());

  const cli = (...argv: string[]): Promise<CliResult> => runCliCaptured(env, argv);

  it('creates a role and adds rules to it, validated like the API', async () => {
    const created = await cli('access-roles', 'create', 'sensor', '--description', 'field sensors', '--json');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.out)).toMatchObject({
      name: 'sensor',
      description: 'field sensors',
      rules: [],
    });

    const added = await cli(
      'access-roles',
      'add-rule',
      'sensor',
      '--permission',
      'allow',
      '--action',
      'publish',
      '--topic',
      'dt/${username}/+/up',
      '--qos',
      '1,0',
    );
    expect(added.code).toBe(0);
    expect(added.out).toContain('0: allow publish dt/${username}/+/up qos=0,1');
    await cli(
      'access-roles',
      'add-rule',
      'sensor',
      '--permission',
      'deny',
      '--action',
      'all',
      '--topic',
      'dt/#',
      '--retain',
      'true',
    );

    const shown = JSON.parse((await cli('access-roles', 'show', 'SENSOR', '--json')).out);
    expect(shown).toMatchObject({
      version: 3,
      rules: [
        { topic: 'dt/${username}/+/up', qos: [0, 1] },
        { permission: 'deny', retain: true },
      ],
    });

    const bad = await cli(
      'access-roles',
      'add-rule',
      'sensor',
      '--permission',
      'allow',
      '--action',
      'all',
      '--topic',
      'a/#/b',
      '--json',
    );
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.err)).toMatchObject({ code: 'access_role.invalid_rule', errors: [{ index: 2 }] });
    expect(
      (
        await cli(
          'access-roles',
          'add-rule',
          'sensor',
          '--permission',
          'maybe',
          '--action',
          'all',
          '--topic',
          'a',
        )
      ).err,
    ).toContain('request.invalid');
    expect(
      (
        await cli(
          'access-roles',
          'add-rule',
          'sensor',
          '--permission',
          'allow',
          '--action',
          'all',
          '--topic',
          'a',
          '--retain',
          'yes',
        )
      ).code,
    ).toBe(2);
    expect((await cli('access-roles', 'create', 'sensor')).err).toContain('access_role.exists');
  });

  it('lists roles as a table or JSON', async () => {
    const table = await cli('access-roles', 'list');
    expect(table.out).toMatch(/^NAME\s+VERSION\s+USER COUNT/);
    expect(table.out).toContain('sensor');
    expect(JSON.parse((await cli('access-roles', 'list', '--json')).out).total).toBe(1);
  });

  it('assigns roles with users create/update --access-roles and explains decisions', async () => {
    const created = await runCliCaptured(
      env,
      [
        'users',
        'create',
        'dev-1',
        '--kind',
        'device',
        '--password-stdin',
        '--access-roles',
        'sensor',
        '--json',
      ],
      { stdin: 'Str0ng-Passw0rd!\n' },
    );
    expect(created.code).toBe(0);
    expect(JSON.parse(created.out).accessRoles).toEqual(['sensor']);

    const allowed = await cli(
      'access',
      'explain',
      '--user',
      'dev-1',
      '--action',
      'publish',
      '--topic',
      'dt/dev-1/t/up',
      '--qos',
      '1',
    );
    expect(allowed.code).toBe(0);
    expect(allowed.out).toContain(
      'ALLOW by rule 0 of access role "sensor": allow publish dt/${username}/+/up (expanded: dt/dev-1/+/up)',
    );
    const denied = await cli(
      'access',
      'explain',
      '--user',
      'dev-1',
      '--action',
      'receive',
      '--topic',
      'dt/x',
      '--retain',
      '--json',
    );
    expect(denied.code).toBe(3);
    expect(JSON.parse(denied.out)).toMatchObject({ decision: 'deny', reason: 'rule', ruleIndex: 1 });
    const none = await cli(
      'access',
      'explain',
      '--user',
      'dev-1',
      '--action',
      'subscribe',
      '--topic',
      'other/#',
    );
    expect(none.out).toBe('DENY (no match)\n');
    expect(
      (await cli('access', 'explain', '--user', 'ghost', '--action', 'publish', '--topic', 'a')).err,
    ).toContain('user.not_found');
    expect((await cli('access', 'explain', '--user', 'dev-1', '--topic', 'a')).code).toBe(2);

    const effective = await cli('access', 'effective', '--user', 'dev-1');
    expect(effective.out).toContain('dt/dev-1/+/up');

    const cleared = await cli('users', 'update', 'dev-1', '--access-roles', '', '--json');
    expect(JSON.parse(cleared.out).accessRoles).toEqual([]);
    await cli('users', 'update', 'dev-1', '--access-roles', 'sensor');
  });

  it('refuses to delete a role in use unless --force', async () => {
    const refused = await cli('access-roles', 'delete', 'sensor');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('access_role.in_use');
    const forced = await cli('access-roles', 'delete', 'sensor', '--force');
    expect(forced.code).toBe(0);
    expect(
      JSON.parse((await cli('users', 'list', '--json')).out).items.find(
        (u: { username: string }) => u.username === 'dev-1',
      ).accessRoles,
    ).toEqual([]);
  });
});
