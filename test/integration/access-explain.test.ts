import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, ROOT_PASSWORD, type TestContext } from '../helpers/test-app.js';

describe.each(ENGINES)('explain, effective access and connected clients (%s)', (engine) => {
  let t: TestContext;
  let root: string;
  let viewer: string;
  let operator: string;

  beforeAll(async () => {
    t = await createTestContext({ engine });
    const { accessRoles } = t.services;
    await accessRoles.create(CLI_CONTEXT, {
      name: 'sensor',
      rules: [
        { permission: 'deny', action: 'all', topic: 'dt/${username}/secret/#' },
        { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up', qos: [0, 1] },
        { permission: 'allow', action: 'subscribe', topic: 'cmd/${clientid}/#' },
        { permission: 'allow', action: 'subscribe', topic: 'fleet/+/status' },
      ],
    });
    await accessRoles.create(CLI_CONTEXT, {
      name: 'observer',
      rules: [{ permission: 'allow', action: 'all', topic: 'fleet/#', retain: false }],
    });
    await t.createUser({ username: 'Dev-7', kind: 'device', accessRoles: ['sensor', 'observer'] });
    await t.createUser({ username: 'dev-8', kind: 'device', accessRoles: ['sensor', 'observer'] });
    await t.createUser({ username: 'vera', role: 'viewer' });
    await t.createUser({ username: 'otto', role: 'operator' });
    root = await t.login('admin', ROOT_PASSWORD);
    viewer = await t.login('vera');
    operator = await t.login('otto');
  });
  afterAll(() => t.close());

  const explain = async (body: object, cookie = root) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/access/explain',
      headers: { cookie },
      payload: body,
    });
    return { status: res.statusCode, body: res.json() };
  };

  it('names the deciding rule, its role and index, and the topic expanded for the user', async () => {
    // Asking about a device is asset management's business (a viewer may only ask about itself).
    const { status, body } = await explain(
      { username: 'dev-7', action: 'publish', topic: 'dt/Dev-7/t1/up', qos: 1 },
      operator,
    );
    expect(status).toBe(200);
    expect(body).toEqual({
      decision: 'allow',
      reason: 'rule',
      role: 'sensor',
      ruleIndex: 1,
      rule: { permission: 'allow', action: 'publish', topic: 'dt/${username}/+/up', qos: [0, 1] },
      expandedTopic: 'dt/Dev-7/+/up',
      placeholders: { username: 'Dev-7' },
    });
  });

  it('explains a partial grant with the carve-outs whose topics are never delivered', async () => {
    const { status, body } = await explain({ username: 'dev-7', action: 'subscribe', topic: '#' });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      decision: 'partial',
      reason: 'partial',
      role: 'sensor',
      ruleIndex: 3,
      carveOuts: [
        {
          role: 'sensor',
          ruleIndex: 0,
          rule: { permission: 'deny', action: 'all', topic: 'dt/${username}/secret/#' },
          expandedTopic: 'dt/Dev-7/secret/#',
        },
      ],
    });
  });

  it('marks allow rules whose subscriptions a carve-out makes partial in the effective access', async () => {
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'carved',
      rules: [
        { permission: 'deny', action: 'subscribe', topic: 'test/nosubscribe' },
        { permission: 'deny', action: 'publish', topic: 'test/#' },
        { permission: 'allow', action: 'all', topic: '#' },
      ],
    });
    await t.createUser({ username: 'dev-carved', kind: 'device', accessRoles: ['carved'] });
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/users/dev-carved/effective-access',
      headers: { cookie: root },
    });
    expect(res.statusCode).toBe(200);
    const rules = res.json().rules as Array<{ ruleIndex: number; carveOuts?: unknown }>;
    expect(rules.map((rule) => rule.carveOuts)).toEqual([
      undefined,
      undefined,
      [{ role: 'carved', ruleIndex: 0, topic: 'test/nosubscribe' }],
    ]);
  });

  it.each([
    ["another user's topic", { action: 'publish', topic: 'dt/dev-8/t1/up' }, 'deny', 'no_match'],
    ['a QoS the rule excludes', { action: 'publish', topic: 'dt/Dev-7/t1/up', qos: 2 }, 'deny', 'no_match'],
    ['a deny rule first', { action: 'publish', topic: 'dt/Dev-7/secret/x' }, 'deny', 'rule'],
    ['$SYS publish', { action: 'publish', topic: '$SYS/broker/x' }, 'deny', 'sys_publish'],
    ['a wildcard in a name', { action: 'publish', topic: 'dt/Dev-7/+/up' }, 'deny', 'invalid_topic'],
    [
      'a subscription the rule only partly covers',
      { action: 'subscribe', topic: 'fleet/#' },
      'allow',
      'rule',
    ],
    [
      'a subscription wider than the rules',
      { action: 'subscribe', topic: 'cmd/#', clientid: 'c1' },
      'partial',
      'partial',
    ],
    [
      'a subscription only a deny rule meets',
      { action: 'subscribe', topic: 'dt/+/secret/#' },
      'deny',
      'rule',
    ],
    ['a client-id rule without client id', { action: 'subscribe', topic: 'cmd/c1/#' }, 'deny', 'no_match'],
    [
      'a client-id rule with the client id',
      { action: 'subscribe', topic: 'cmd/c1/#', clientid: 'c1' },
      'allow',
      'rule',
    ],
    [
      'a retained delivery the rule excludes',
      { action: 'receive', topic: 'fleet/a/b', retain: true },
      'deny',
      'no_match',
    ],
    ['a live delivery', { action: 'receive', topic: 'fleet/a/b' }, 'allow', 'rule'],
  ])('explains %s', async (_case, request, decision, reason) => {
    const { body } = await explain({ username: 'dev-7', ...request });
    expect(body).toMatchObject({ decision, reason });
  });

  it('answers 404 for unknown users, user_inactive for deactivated ones, 400 for bad input', async () => {
    expect((await explain({ username: 'ghost', action: 'publish', topic: 'a' })).body.code).toBe(
      'user.not_found',
    );
    await t.services.users.deactivate(CLI_CONTEXT, 'dev-8');
    expect((await explain({ username: 'dev-8', action: 'publish', topic: 'dt/dev-8/a/up' })).body).toEqual({
      decision: 'deny',
      reason: 'user_inactive',
    });
    await t.services.users.reactivate(CLI_CONTEXT, 'dev-8');
    expect(
      (await explain({ username: 'dev-8', action: 'publish', topic: 'dt/dev-8/a/up' })).body.decision,
    ).toBe('allow');
    for (const bad of [
      { username: 'dev-7', action: 'read', topic: 'a' },
      { username: 'dev-7', action: 'publish', topic: 'a', qos: 3 },
      { username: 'dev-7', action: 'publish' },
    ]) {
      expect((await explain(bad)).status).toBe(400);
    }
    const anonymous = await t.app.inject({
      method: 'POST',
      url: '/api/v1/access/explain',
      payload: { username: 'dev-7', action: 'publish', topic: 'a' },
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it('follows rule and assignment changes at once (compiled sets are invalidated by version)', async () => {
    const request = { username: 'dev-7', action: 'publish', topic: 'dt/Dev-7/t1/up' };
    expect((await explain(request)).body.decision).toBe('allow');
    await t.services.accessRoles.update(CLI_CONTEXT, 'sensor', { rules: [] });
    expect((await explain(request)).body).toEqual({ decision: 'deny', reason: 'no_match' });
    await t.services.users.update(CLI_CONTEXT, 'dev-7', { accessRoles: ['observer'] });
    expect((await explain({ ...request, topic: 'fleet/x' })).body).toMatchObject({
      decision: 'allow',
      role: 'observer',
      ruleIndex: 0,
    });
    await t.services.users.update(CLI_CONTEXT, 'dev-7', { accessRoles: ['sensor', 'observer'] });
  });

  it('users holding the same role list share one compiled rule set', async () => {
    const [a, b] = await Promise.all([
      t.services.access.subject('dev-7'),
      t.services.access.subject('dev-8'),
    ]);
    expect(a?.compiled).toBeDefined();
    expect(a?.compiled).toBe(b?.compiled);
    expect(a?.username).toBe('Dev-7');
  });

  describe('effective access', () => {
    const effective = (username: string, query = '', cookie = root) =>
      t.app.inject({
        method: 'GET',
        url: `/api/v1/users/${username}/effective-access${query}`,
        headers: { cookie },
      });

    beforeAll(async () => {
      await t.services.accessRoles.update(CLI_CONTEXT, 'sensor', {
        rules: [
          { permission: 'deny', action: 'all', topic: 'dt/${username}/secret/#' },
          { permission: 'allow', action: 'subscribe', topic: 'cmd/${clientid}/#', qos: [1] },
        ],
      });
    });

    it('lists the merged rules in order, ${username} expanded, ${clientid} symbolic without a client id', async () => {
      const res = await effective('DEV-7');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        username: 'Dev-7',
        active: true,
        clientid: null,
        roles: [
          { name: 'sensor', version: 3 },
          { name: 'observer', version: 1 },
        ],
        rules: [
          {
            role: 'sensor',
            ruleIndex: 0,
            permission: 'deny',
            action: 'all',
            topic: 'dt/Dev-7/secret/#',
            ruleTopic: 'dt/${username}/secret/#',
            applicable: true,
          },
          {
            role: 'sensor',
            ruleIndex: 1,
            permission: 'allow',
            action: 'subscribe',
            topic: 'cmd/${clientid}/#',
            ruleTopic: 'cmd/${clientid}/#',
            qos: [1],
            applicable: true,
          },
          {
            role: 'observer',
            ruleIndex: 0,
            permission: 'allow',
            action: 'all',
            topic: 'fleet/#',
            ruleTopic: 'fleet/#',
            retain: false,
            applicable: true,
          },
        ],
        httpRules: [],
      });
    });

    it('expands the client id when given; one that cannot stand in a level makes the rule inapplicable', async () => {
      expect((await effective('dev-7', '?clientid=plc-1')).json().rules[1]).toMatchObject({
        topic: 'cmd/plc-1/#',
        applicable: true,
      });
      expect((await effective('dev-7', '?clientid=a%2Fb')).json().rules[1]).toMatchObject({
        topic: 'cmd/${clientid}/#',
        applicable: false,
      });
    });

    it('needs user_management; 404 for unknown users', async () => {
      expect((await effective('dev-7', '', viewer)).statusCode).toBe(403);
      expect((await effective('ghost')).json().code).toBe('user.not_found');
    });
  });

  describe('connected clients without a running broker', () => {
    it('lists none and answers 404 mqtt.client_not_found on disconnect', async () => {
      const list = await t.app.inject({
        method: 'GET',
        url: '/api/v1/mqtt/clients',
        headers: { cookie: viewer },
      });
      expect(list.json()).toEqual({ items: [], total: 0, page: 1, pageSize: 25 });
      const gone = await t.app.inject({
        method: 'DELETE',
        url: '/api/v1/mqtt/clients/abc',
        headers: { cookie: root },
      });
      expect(gone.statusCode).toBe(404);
      expect(gone.json().code).toBe('mqtt.client_not_found');
      const denied = await t.app.inject({
        method: 'DELETE',
        url: '/api/v1/mqtt/clients/abc',
        headers: { cookie: viewer },
      });
      expect(denied.statusCode).toBe(403);
    });
  });
});
