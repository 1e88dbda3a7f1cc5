// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule paths spell the placeholder ${username} literally
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectory } from '../../src/modules/brokers/broker-directory.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { type CliResult, createCliDataDir, runCliCaptured } from '../helpers/cli.js';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, ROOT_PASSWORD, type TestContext } from '../helpers/test-app.js';

const MQTT_RULE = { permission: 'allow', action: 'publish', topic: 'dt/${username}/#' };

describe.each(ENGINES)(
  'HTTP rules in access roles: API validation, explain, effective access (%s)',
  (engine) => {
    let t: TestContext;
    let root: string;

    beforeAll(async () => {
      t = await createTestContext({ engine });
      root = await t.login('admin', ROOT_PASSWORD);
    });
    afterAll(() => t.close());

    const createRole = (name: string, rules: object[]) =>
      t.call('POST', '/api/v1/access-roles', { cookie: root, payload: { name, rules } });

    it('stores valid HTTP rules beside MQTT rules, in one canonical shape (methods in list order)', async () => {
      const res = await createRole('web', [
        { permission: 'deny', action: 'http', path: '/grafana/admin/**' },
        MQTT_RULE,
        { permission: 'allow', action: 'http', methods: ['HEAD', 'GET', 'GET'], path: '/grafana/**' },
        { permission: 'allow', action: 'http', path: '/home/${username}/**' },
      ]);
      expect(res.statusCode).toBe(201);
      expect(res.json().rules).toEqual([
        { permission: 'deny', action: 'http', path: '/grafana/admin/**' },
        MQTT_RULE,
        { permission: 'allow', action: 'http', methods: ['GET', 'HEAD'], path: '/grafana/**' },
        { permission: 'allow', action: 'http', path: '/home/${username}/**' },
      ]);
    });

    it('refuses invalid HTTP rules with access_role.invalid_rule, naming each one and what is wrong', async () => {
      const res = await createRole('bad-http', [
        { permission: 'allow', action: 'http', path: 'grafana' },
        { permission: 'allow', action: 'http', path: '/a/../b' },
        { permission: 'allow', action: 'http', path: '/**/x' },
        { permission: 'allow', action: 'http', methods: ['FETCH'], path: '/a' },
        { permission: 'allow', action: 'http', path: `/${'x'.repeat(1100)}` },
        { permission: 'allow', action: 'http', path: '/ok' },
        { permission: 'allow', action: 'http', path: '/a/${clientid}' },
      ]);
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.code).toBe('access_role.invalid_rule');
      expect(body.errors.map((e: { index: number }) => e.index)).toEqual([0, 1, 2, 3, 4, 6]);
      expect(body.errors.map((e: { message: string }) => e.message)).toEqual([
        'path must start with /',
        'path must not contain . or .. segments',
        'path ** is allowed only as the last segment',
        'methods must be from GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS (got FETCH)',
        'path must be at most 1024 characters',
        'path the only placeholder is ${username}',
      ]);
      // A rule mixing the two kinds' fields fits neither shape.
      const mixed = await createRole('mixed', [
        { permission: 'allow', action: 'http', path: '/a', topic: 'a' },
      ]);
      expect(mixed.statusCode).toBe(400);
      expect(mixed.json().code).toBe('request.invalid');
    });

    it('explains an HTTP request: the deciding rule and role, the path as the matcher saw it', async () => {
      await t.createUser({ username: 'alice', role: 'viewer', accessRoles: ['web'] });
      const explain = async (body: object) => {
        const res = await t.call('POST', '/api/v1/access/explain', { cookie: root, payload: body });
        expect(res.statusCode).toBe(200);
        return res.json();
      };
      expect(
        await explain({ username: 'alice', action: 'http', method: 'GET', path: '/grafana//d/x?y=1' }),
      ).toEqual({
        decision: 'allow',
        reason: 'rule',
        role: 'web',
        ruleIndex: 2,
        rule: { permission: 'allow', action: 'http', methods: ['GET', 'HEAD'], path: '/grafana/**' },
        expandedPath: '/grafana/**',
        canonicalPath: '/grafana/d/x',
      });
      expect(
        await explain({ username: 'alice', action: 'http', method: 'PUT', path: '/home/alice/a' }),
      ).toMatchObject({ decision: 'allow', ruleIndex: 3, expandedPath: '/home/alice/**' });
      expect(
        await explain({ username: 'alice', action: 'http', method: 'GET', path: '/grafana/admin' }),
      ).toMatchObject({ decision: 'deny', reason: 'rule', role: 'web', ruleIndex: 0 });
      expect(
        await explain({ username: 'alice', action: 'http', method: 'POST', path: '/grafana/x' }),
      ).toEqual({
        decision: 'deny',
        reason: 'no_match',
        canonicalPath: '/grafana/x',
      });
      expect(
        await explain({ username: 'alice', action: 'http', method: 'GET', path: '/grafana/%2e%2e/x' }),
      ).toEqual({
        decision: 'deny',
        reason: 'invalid_path',
        pathError: 'a . or .. segment',
      });
      // MQTT decisions of the same user are those of its MQTT rule alone
      expect(await explain({ username: 'alice', action: 'publish', topic: 'dt/alice/x' })).toMatchObject({
        decision: 'allow',
        ruleIndex: 1,
      });
      await t.services.users.deactivate(CLI_CONTEXT, 'alice');
      expect(await explain({ username: 'alice', action: 'http', method: 'GET', path: '/grafana/' })).toEqual({
        decision: 'deny',
        reason: 'user_inactive',
      });
      await t.services.users.reactivate(CLI_CONTEXT, 'alice');
    });

    it('a user may explain an HTTP request about itself, not about others', async () => {
      const cookie = await t.login('alice');
      const self = await t.call('POST', '/api/v1/access/explain', {
        cookie,
        payload: { username: 'alice', action: 'http', method: 'GET', path: '/grafana/' },
      });
      expect(self.statusCode).toBe(200);
      const other = await t.call('POST', '/api/v1/access/explain', {
        cookie,
        payload: { username: 'admin', action: 'http', method: 'GET', path: '/grafana/' },
      });
      expect(other.statusCode).toBe(403);
    });

    it('effective access lists the HTTP rules apart from the MQTT rules, with their stored indices', async () => {
      const res = await t.call('GET', '/api/v1/users/alice/effective-access', { cookie: root });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.rules).toHaveLength(1);
      expect(body.rules[0]).toMatchObject({ role: 'web', ruleIndex: 1, topic: 'dt/alice/#' });
      expect(body.httpRules).toEqual([
        {
          role: 'web',
          ruleIndex: 0,
          permission: 'deny',
          path: '/grafana/admin/**',
          rulePath: '/grafana/admin/**',
        },
        {
          role: 'web',
          ruleIndex: 2,
          permission: 'allow',
          methods: ['GET', 'HEAD'],
          path: '/grafana/**',
          rulePath: '/grafana/**',
        },
        {
          role: 'web',
          ruleIndex: 3,
          permission: 'allow',
          path: '/home/alice/**',
          rulePath: '/home/${username}/**',
        },
      ]);
    });

    it('brokers see MQTT rules only: the directory hands them no HTTP rule', async () => {
      const directory = createDirectory({ users: t.services.users, accessRoles: t.services.accessRoles });
      const web = (await directory.roles()).find((role) => role.name === 'web');
      expect(web?.rules).toEqual([MQTT_RULE]);
    });
  },
);

describe('warden access explain / access-roles add-rule with HTTP rules (CLI)', () => {
  let env: Record<string, string>;
  let remove: () => void;
  beforeAll(async () => {
    ({ env, remove } = await createCliDataDir('warden-access-http-cli-'));
  });
  afterAll(() => remove());
  const cli = (...argv: string[]): Promise<CliResult> => runCliCaptured(env, argv);

  it('adds HTTP rules and explains HTTP requests with the MQTT exit codes (0 allow, 3 deny)', async () => {
    expect((await cli('access-roles', 'create', 'dash')).code).toBe(0);
    const added = await cli(
      'access-roles',
      'add-rule',
      'dash',
      '--permission',
      'allow',
      '--action',
      'http',
      '--methods',
      'HEAD,GET',
      '--path',
      '/grafana/**',
    );
    expect(added.code).toBe(0);
    expect(added.out).toContain('0: allow http GET,HEAD /grafana/**');
    const bad = await cli(
      'access-roles',
      'add-rule',
      'dash',
      '--permission',
      'allow',
      '--action',
      'http',
      '--path',
      '/a/**/b',
      '--json',
    );
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.err)).toMatchObject({ code: 'access_role.invalid_rule', errors: [{ index: 1 }] });
    const created = await runCliCaptured(
      env,
      ['users', 'create', 'carol', '--password-stdin', '--access-roles', 'dash'],
      { stdin: 'Str0ng-Passw0rd!\n' },
    );
    expect(created.code).toBe(0);

    const allowed = await cli(
      'access',
      'explain',
      '--user',
      'carol',
      '--action',
      'http',
      '--path',
      '/grafana/d?x=1',
    );
    expect(allowed.code).toBe(0);
    expect(allowed.out).toBe(
      'ALLOW by rule 0 of access role "dash": allow http GET,HEAD /grafana/** (path seen as /grafana/d)\n',
    );
    const denied = await cli(
      'access',
      'explain',
      '--user',
      'carol',
      '--action',
      'http',
      '--method',
      'POST',
      '--path',
      '/grafana/d',
    );
    expect(denied.code).toBe(3);
    expect(denied.out).toBe('DENY (no match) (path seen as /grafana/d)\n');
    const attack = await cli(
      'access',
      'explain',
      '--user',
      'carol',
      '--action',
      'http',
      '--path',
      '/grafana/../x',
      '--json',
    );
    expect(attack.code).toBe(3);
    expect(JSON.parse(attack.out)).toEqual({
      decision: 'deny',
      reason: 'invalid_path',
      pathError: 'a . or .. segment',
    });
    expect((await cli('access', 'explain', '--user', 'carol', '--action', 'http')).code).toBe(2);
    const effective = await cli('access', 'effective', '--user', 'carol');
    expect(effective.out).toContain('HTTP rules:');
    expect(effective.out).toContain('/grafana/**');
  });
});
