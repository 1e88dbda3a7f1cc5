// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule topics spell the placeholders ${username} / ${clientid} literally
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRoles } from './compile.js';
import { acceptsSubscription, decide, explain } from './decide.js';
import type { AccessDecision, AccessRequest, AccessRule, Identity, QoS, RoleRules } from './rule.types.js';

const alice: Identity = { username: 'alice', clientid: 'c1' };

function roles(...lists: AccessRule[][]): RoleRules[] {
  return lists.map((rules, i) => ({ name: `role${i}`, rules }));
}

function ask(rules: AccessRule[], request: AccessRequest, identity: Identity = alice): AccessDecision {
  return decide(compileRoles(roles(rules)), identity, request);
}

const allow = (action: AccessRule['action'], topic: string, extra: Partial<AccessRule> = {}): AccessRule => ({
  permission: 'allow',
  action,
  topic,
  ...extra,
});
const deny = (action: AccessRule['action'], topic: string, extra: Partial<AccessRule> = {}): AccessRule => ({
  permission: 'deny',
  action,
  topic,
  ...extra,
});

describe('decide: order and defaults', () => {
  it('denies when nothing matches, also with no roles at all', () => {
    expect(ask([allow('publish', 'a')], { action: 'publish', topic: 'b' })).toEqual({
      allowed: false,
      reason: 'no_match',
    });
    expect(decide(compileRoles([]), alice, { action: 'publish', topic: 'a' }).reason).toBe('no_match');
  });

  it('lets the first matching rule win, across roles in order', () => {
    const set = compileRoles(
      roles([deny('publish', 'a/secret')], [allow('publish', 'a/#'), deny('all', 'a/b')]),
    );
    expect(decide(set, alice, { action: 'publish', topic: 'a/secret' })).toMatchObject({
      allowed: false,
      reason: 'rule',
      role: 'role0',
      ruleIndex: 0,
    });
    expect(decide(set, alice, { action: 'publish', topic: 'a/b' })).toMatchObject({
      allowed: true,
      role: 'role1',
      ruleIndex: 0,
    });
  });

  it('applies `all` to publish, subscribe and receive, and `subscribe` to receive', () => {
    const set = compileRoles(roles([allow('all', 'x'), allow('subscribe', 'y')]));
    for (const action of ['publish', 'subscribe', 'receive'] as const) {
      expect(decide(set, alice, { action, topic: 'x' }).allowed).toBe(true);
    }
    expect(decide(set, alice, { action: 'receive', topic: 'y' }).allowed).toBe(true);
    expect(decide(set, alice, { action: 'publish', topic: 'y' }).allowed).toBe(false);
  });

  it('returns shared frozen decisions', () => {
    const set = compileRoles(roles([allow('publish', 'a/+')]));
    const first = decide(set, alice, { action: 'publish', topic: 'a/1' });
    expect(decide(set, alice, { action: 'publish', topic: 'a/2' })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });
});

describe('decide: qos and retain', () => {
  const rules = [
    allow('publish', 'q', { qos: [0, 1] }),
    allow('all', 'r', { retain: false }),
    allow('all', 'z', { qos: [] }),
  ];

  it('applies a rule only to its QoS levels (default QoS 0)', () => {
    expect(ask(rules, { action: 'publish', topic: 'q', qos: 1 }).allowed).toBe(true);
    expect(ask(rules, { action: 'publish', topic: 'q' }).allowed).toBe(true);
    expect(ask(rules, { action: 'publish', topic: 'q', qos: 2 }).reason).toBe('no_match');
    expect(ask(rules, { action: 'publish', topic: 'z' }).reason).toBe('no_match');
  });

  it('applies retain to publish and receive, not to the subscription itself', () => {
    expect(ask(rules, { action: 'publish', topic: 'r', retain: true }).allowed).toBe(false);
    expect(ask(rules, { action: 'publish', topic: 'r' }).allowed).toBe(true);
    expect(ask(rules, { action: 'receive', topic: 'r', retain: true }).allowed).toBe(false);
    expect(ask(rules, { action: 'subscribe', topic: 'r', retain: true }).allowed).toBe(true);
  });

  it('rejects an unknown QoS, action or topic type from outside the type system', () => {
    const bad = { action: 'publish', topic: 'q', qos: 3 } as unknown as AccessRequest;
    expect(ask(rules, bad).reason).toBe('invalid_request');
    expect(ask(rules, { action: 'connect', topic: 'q' } as unknown as AccessRequest).reason).toBe(
      'invalid_request',
    );
    const noTopic = { action: 'publish', topic: null } as unknown as AccessRequest;
    expect(ask(rules, noTopic).reason).toBe('invalid_request');
  });
});

describe('decide: topics', () => {
  it('denies invalid names and filters', () => {
    const rules = [allow('all', '#')];
    expect(ask(rules, { action: 'publish', topic: 'a/+' }).reason).toBe('invalid_topic');
    expect(ask(rules, { action: 'receive', topic: '' }).reason).toBe('invalid_topic');
    expect(ask(rules, { action: 'subscribe', topic: 'a/#/b' }).reason).toBe('invalid_topic');
    expect(ask(rules, { action: 'subscribe', topic: '$share//a' }).reason).toBe('invalid_topic');
  });

  it('always denies publishing to $SYS', () => {
    const rules = [allow('all', '$SYS/#')];
    expect(ask(rules, { action: 'publish', topic: '$SYS/x' }).reason).toBe('sys_publish');
    expect(ask(rules, { action: 'publish', topic: '$SYS' }).reason).toBe('sys_publish');
    expect(ask(rules, { action: 'publish', topic: '$SYSTEM' }).reason).toBe('no_match');
    expect(ask(rules, { action: 'receive', topic: '$SYS/x' }).allowed).toBe(true);
  });

  it('keeps rules starting with + or # away from $ topics', () => {
    const rules = [allow('all', '#'), allow('all', '+/x')];
    expect(ask(rules, { action: 'receive', topic: '$SYS/x' }).reason).toBe('no_match');
    expect(ask(rules, { action: 'subscribe', topic: '$SYS/#' }).reason).toBe('no_match');
    expect(ask(rules, { action: 'subscribe', topic: '#' }).allowed).toBe(true);
    expect(ask([allow('all', '$SYS/#')], { action: 'subscribe', topic: '#' }).reason).toBe('no_match');
  });

  it('matches empty levels and parents as MQTT does', () => {
    const rules = [allow('publish', 'a/+'), allow('publish', 'b/#')];
    expect(ask(rules, { action: 'publish', topic: 'a/' }).allowed).toBe(true);
    expect(ask(rules, { action: 'publish', topic: 'a' }).allowed).toBe(false);
    expect(ask(rules, { action: 'publish', topic: 'b' }).allowed).toBe(true);
  });
});

describe('decide: placeholders', () => {
  const rules = [
    allow('publish', 'dt/${username}-x/up'),
    allow('subscribe', 'cmd/${clientid}/#'),
    allow('publish', 'any/${username}/${clientid}'),
    allow('publish', 'any/#'),
  ];

  it('expands placeholders against the identity, also inside a level', () => {
    expect(ask(rules, { action: 'publish', topic: 'dt/alice-x/up' }).allowed).toBe(true);
    expect(ask(rules, { action: 'publish', topic: 'dt/bob-x/up' }).allowed).toBe(false);
    expect(ask(rules, { action: 'subscribe', topic: 'cmd/c1/+' }).allowed).toBe(true);
  });

  it('serves every user from one compiled set', () => {
    const set = compileRoles(roles(rules));
    expect(decide(set, { username: 'bob' }, { action: 'publish', topic: 'dt/bob-x/up' }).allowed).toBe(true);
    expect(decide(set, alice, { action: 'publish', topic: 'dt/bob-x/up' }).allowed).toBe(false);
  });

  it.each([
    ['missing', { username: 'alice' }],
    ['null', { username: 'alice', clientid: null }],
    ['empty', { username: 'alice', clientid: '' }],
    ['with /', { username: 'alice', clientid: 'a/b' }],
    ['with +', { username: 'alice', clientid: '+' }],
    ['with #', { username: 'alice', clientid: '#' }],
    ['with NUL', { username: 'alice', clientid: 'a\u0000' }],
  ])('skips a rule whose clientid is %s and goes on', (_label, identity: Identity) => {
    expect(ask(rules, { action: 'publish', topic: 'any/alice/x' }, identity)).toMatchObject({
      allowed: true,
      ruleIndex: 3,
    });
    expect(ask(rules, { action: 'subscribe', topic: 'cmd/+/#' }, identity).reason).toBe('no_match');
  });

  it('treats an expanded value literally, even one that looks like a placeholder', () => {
    const me = { username: '${clientid}', clientid: 'c1' };
    expect(
      ask([allow('publish', 'u/${username}')], { action: 'publish', topic: 'u/${clientid}' }, me).allowed,
    ).toBe(true);
    expect(ask([allow('publish', 'u/${username}')], { action: 'publish', topic: 'u/c1' }, me).allowed).toBe(
      false,
    );
  });
});

describe('decide: subscriptions', () => {
  it('grants a filter fully when one allow rule covers all of it, partially when it only meets it', () => {
    const rules = [allow('subscribe', 'a/+')];
    expect(ask(rules, { action: 'subscribe', topic: 'a/+' }).allowed).toBe(true);
    expect(ask(rules, { action: 'subscribe', topic: 'a/b' }).allowed).toBe(true);
    expect(ask(rules, { action: 'subscribe', topic: 'a/#' })).toMatchObject({
      allowed: false,
      reason: 'partial',
      ruleIndex: 0,
    });
    expect(ask(rules, { action: 'subscribe', topic: 'b/#' }).reason).toBe('no_match');
    expect(ask([allow('subscribe', 'a/#')], { action: 'subscribe', topic: 'a/+/c' }).allowed).toBe(true);
    expect(ask([allow('subscribe', 'a/#')], { action: 'subscribe', topic: 'a' }).allowed).toBe(true);
  });

  it('grants a wide filter partially under a carve-out, and never delivers the carve-out', () => {
    const rules = [deny('subscribe', 'test/nosubscribe'), allow('all', '#')];
    for (const topic of ['#', '+/+', 'test/#', 'test/+']) {
      expect(ask(rules, { action: 'subscribe', topic }), topic).toMatchObject({
        allowed: false,
        reason: 'partial',
        ruleIndex: 1,
      });
    }
    expect(ask(rules, { action: 'subscribe', topic: 'test/nosubscribe' })).toMatchObject({
      reason: 'rule',
      ruleIndex: 0,
    });
    expect(ask(rules, { action: 'subscribe', topic: 'TopicA/+' }).allowed).toBe(true);
    expect(ask(rules, { action: 'receive', topic: 'test/nosubscribe' }).allowed).toBe(false);
    expect(ask(rules, { action: 'receive', topic: 'test/other' }).allowed).toBe(true);
  });

  it('refuses a filter when every part an allow grants is covered by an earlier deny', () => {
    const rules = [
      deny('subscribe', 'x/b'),
      allow('subscribe', 'x/+'),
      deny('all', 'y/#'),
      allow('all', 'y/+'),
    ];
    expect(ask(rules, { action: 'subscribe', topic: '+/b' })).toMatchObject({ reason: 'rule', ruleIndex: 0 });
    expect(ask(rules, { action: 'subscribe', topic: 'y/#' })).toMatchObject({ reason: 'rule', ruleIndex: 2 });
    expect(ask(rules, { action: 'subscribe', topic: 'x/#' })).toMatchObject({
      reason: 'partial',
      ruleIndex: 1,
    });
  });

  it('lets the first allow whose part no earlier deny covers decide a partial grant', () => {
    const rules = [deny('all', 'a/secret/#'), allow('subscribe', 'a/secret/+/x'), allow('subscribe', '#')];
    expect(ask(rules, { action: 'subscribe', topic: 'a/#' })).toMatchObject({
      reason: 'partial',
      ruleIndex: 2,
    });
    // an allow meeting the filter before any deny grants part of it at once
    const early = [allow('subscribe', 'a/b'), deny('all', 'a/+'), allow('subscribe', '#')];
    expect(ask(early, { action: 'subscribe', topic: 'a/+' })).toMatchObject({
      reason: 'partial',
      ruleIndex: 0,
    });
  });

  it('lets an earlier covering allow win over a later deny', () => {
    const rules = [allow('subscribe', 'a/#'), deny('all', 'a/b')];
    expect(ask(rules, { action: 'subscribe', topic: 'a/#' }).allowed).toBe(true);
    // and an allow covering the filter after a partial one, with no deny between
    expect(
      ask([allow('subscribe', 'a/b'), allow('subscribe', 'a/+')], { action: 'subscribe', topic: 'a/+' }),
    ).toMatchObject({
      allowed: true,
      ruleIndex: 1,
    });
  });

  it('checks a shared subscription on its inner filter', () => {
    const rules = [allow('subscribe', 'jobs/+')];
    expect(ask(rules, { action: 'subscribe', topic: '$share/workers/jobs/+' }).allowed).toBe(true);
    expect(ask(rules, { action: 'subscribe', topic: '$share/workers/jobs/#' }).reason).toBe('partial');
  });

  it('lets only enforcement points that check deliveries accept a partial grant', () => {
    const partial = ask([allow('subscribe', 'a/+')], { action: 'subscribe', topic: 'a/#' });
    const full = ask([allow('subscribe', 'a/+')], { action: 'subscribe', topic: 'a/b' });
    const refused = ask([allow('subscribe', 'a/+')], { action: 'subscribe', topic: 'b' });
    expect([acceptsSubscription(partial, true), acceptsSubscription(partial, false)]).toEqual([true, false]);
    expect([acceptsSubscription(full, true), acceptsSubscription(full, false)]).toEqual([true, true]);
    expect([acceptsSubscription(refused, true), acceptsSubscription(refused, false)]).toEqual([false, false]);
  });
});

describe('explain', () => {
  it('adds the expanded rule topic and the placeholder values', () => {
    const set = compileRoles(roles([allow('publish', 'dt/${username}/${clientid}/#')]));
    expect(explain(set, alice, { action: 'publish', topic: 'dt/alice/c1/x' })).toEqual({
      allowed: true,
      reason: 'rule',
      role: 'role0',
      ruleIndex: 0,
      rule: allow('publish', 'dt/${username}/${clientid}/#'),
      expandedTopic: 'dt/alice/c1/#',
      placeholders: { username: 'alice', clientid: 'c1' },
    });
    expect(explain(set, alice, { action: 'publish', topic: 'x' })).toEqual({
      allowed: false,
      reason: 'no_match',
    });
  });

  it('lists the carve-outs of a partial grant, leaving out denies an earlier allow shadows', () => {
    const set = compileRoles(
      roles(
        [allow('subscribe', 'pub/#'), deny('all', 'pub/x'), deny('subscribe', 'dt/${username}/secret/#')],
        [deny('publish', 'only-pub/#'), allow('all', '#')],
      ),
    );
    const explained = explain(set, alice, { action: 'subscribe', topic: '#' });
    // the first allow meets `#` before any deny does: it decides, and the later `allow all #` grants the rest
    expect(explained).toMatchObject({ allowed: false, reason: 'partial', role: 'role0', ruleIndex: 0 });
    expect(explained.carveOuts).toEqual([
      {
        role: 'role0',
        ruleIndex: 2,
        rule: deny('subscribe', 'dt/${username}/secret/#'),
        expandedTopic: 'dt/alice/secret/#',
      },
    ]);
    expect(explain(set, alice, { action: 'subscribe', topic: 'pub/#' }).carveOuts).toBeUndefined();
  });

  it('agrees with decide on every generated request', () => {
    const set = compileRoles(
      roles(
        [deny('all', 'a/${username}/#'), allow('subscribe', 'a/+/b'), allow('publish', '${clientid}/+')],
        [allow('all', 'a/#', { qos: [0] }), deny('subscribe', '+/+/b')],
      ),
    );
    const level = fc.constantFrom('a', 'b', 'alice', 'c1', '+', '');
    const request = fc.record({
      action: fc.constantFrom<AccessRequest['action'][]>('publish', 'subscribe', 'receive'),
      topic: fc.array(level, { minLength: 1, maxLength: 4 }).map((levels) => levels.join('/')),
      qos: fc.constantFrom<QoS[]>(0, 1, 2),
    });
    fc.assert(
      fc.property(request, (r) => {
        const decided = decide(set, alice, r);
        const explained = explain(set, alice, r);
        return (
          decided.allowed === explained.allowed &&
          decided.reason === explained.reason &&
          decided.role === explained.role &&
          decided.ruleIndex === explained.ruleIndex
        );
      }),
      { numRuns: 5_000, seed: 11 },
    );
  });
});
