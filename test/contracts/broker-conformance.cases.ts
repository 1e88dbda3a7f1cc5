/**
 * One conformance table for every enforcement point (docs/architecture.md#integrations): rule set, identity,
 * action, topic, QoS, retain → expected decision. `expect` is Warden's model (docs/access-rules.md); where an
 * adapter answers differently because its broker cannot express the rule, the case says so explicitly in
 * `differ` with a difference id explained in docs/brokers.md ("Documented differences"). Systematic limits
 * that hold for a whole adapter (EMQX and VerneMQ never ask about deliveries) are in {@link ADAPTER_LIMITS}.
 * Nothing is skipped silently: the runner asserts every case on every adapter.
 */

import type { AccessRule, HttpRule, QoS, RoleRule } from '../../src/modules/access-engine/index.js';

export const ADAPTERS = ['engine', 'aedes', 'mosquitto', 'emqx', 'go-auth', 'vernemq'] as const;
export type Adapter = (typeof ADAPTERS)[number];
/** `partial` (subscribe only): some topics of the filter are allowed, others not (docs/access-rules.md). */
export type Outcome = 'allow' | 'deny' | 'partial';
/** `n/a`: the broker never asks this question (and enforces nothing for it). */
export type AdapterOutcome = Outcome | 'n/a';

/** Why an adapter differs from Warden's model; each id has a paragraph in docs/brokers.md. */
export const DIFFERENCES = {
  'no-delivery-check':
    'EMQX and VerneMQ have no delivery check: a message reaching a subscription is delivered; deliveries are governed at subscribe time.',
  'dynsec-qos-retain':
    'Mosquitto dynsec ACLs cannot test QoS or retain: an allow with such a condition is left out, a deny with one applies always (fails closed).',
  'dynsec-partial-needs-covering-allow':
    'Mosquitto grants a partially granted subscription only when one allow ACL covers the whole filter (the carve-outs are then refused at delivery by publishClientReceive); a filter allow rules only meet, such as `a/#` under `allow a/+`, is refused (fails closed).',
  'partial-grant-refused':
    'EMQX and VerneMQ refuse a partially granted subscription: they cannot filter its deliveries, so granting it would deliver the carve-outs (fails closed).',
  'dynsec-clientid-unbound':
    'Mosquitto 2.0 cannot substitute the client id: without clientIdBinding=username an allow using ${clientid} is left out and a deny applies to every client id.',
  'dynsec-dollar-wildcard':
    'dynsec subscribePattern `#` / `+` also covers `$` filters (SUBACK granted) although MQTT-4.7.2-1 keeps `$` messages from them: the subscription succeeds but delivers nothing.',
  'go-auth-qos-retain':
    'mosquitto-go-auth sends neither QoS nor retain: a request is allowed only when every QoS and retain flag is.',
  'aedes-no-shared-subscriptions':
    'The embedded broker (aedes) does not implement shared subscriptions: `$share/…` filters are refused.',
} as const;
export type DifferenceId = keyof typeof DIFFERENCES;

/**
 * What each adapter answers for a partially granted subscription: the brokers that check every delivery grant it
 * (SUBACK) and filter the carve-outs at delivery; the others refuse it.
 */
export const PARTIAL_GRANT: Record<
  Adapter,
  { readonly expect: AdapterOutcome; readonly why?: DifferenceId }
> = {
  engine: { expect: 'partial' },
  aedes: { expect: 'allow' },
  mosquitto: { expect: 'allow' },
  'go-auth': { expect: 'allow' },
  emqx: { expect: 'deny', why: 'partial-grant-refused' },
  vernemq: { expect: 'deny', why: 'partial-grant-refused' },
};

/** Limits that hold for every case of an action on an adapter. */
export const ADAPTER_LIMITS: Partial<
  Record<Adapter, Partial<Record<ConformanceCase['action'], DifferenceId>>>
> = {
  emqx: { receive: 'no-delivery-check' },
  vernemq: { receive: 'no-delivery-check' },
};

export interface ConformanceCase {
  readonly action: 'publish' | 'subscribe' | 'receive';
  /** A topic name (publish, receive) or filter (subscribe, optionally `$share/<group>/…`). */
  readonly topic: string;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly expect: Outcome;
  /**
   * Receive only: the filter the subscriber asks for (at the case's QoS) before the message is published;
   * default: the topic itself. A refused subscription means nothing is delivered.
   */
  readonly via?: string;
  readonly differ?: Partial<Record<Adapter, { readonly expect: AdapterOutcome; readonly why: DifferenceId }>>;
}

export interface ConformanceScenario {
  readonly name: string;
  /** The user's access roles, in order. */
  readonly roles: ReadonlyArray<{ readonly name: string; readonly rules: readonly RoleRule[] }>;
  readonly username: string;
  readonly clientid: string;
  /** false: the user is deactivated; every request is refused. */
  readonly active?: boolean;
  readonly cases: readonly ConformanceCase[];
}

type Options = Partial<Pick<ConformanceCase, 'qos' | 'retain' | 'via' | 'differ'>>;
const make =
  (action: ConformanceCase['action']) =>
  (topic: string, expect: Outcome, options: Options = {}): ConformanceCase => ({
    action,
    topic,
    qos: options.qos ?? 0,
    retain: options.retain ?? false,
    expect,
    ...(options.via === undefined ? {} : { via: options.via }),
    ...(options.differ === undefined ? {} : { differ: options.differ }),
  });
const pub = make('publish');
const sub = make('subscribe');
const recv = make('receive');

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

/** An HTTP rule (forward-auth): no MQTT enforcement point may ever read it. */
const http = (permission: HttpRule['permission'], path: string): HttpRule => ({
  permission,
  action: 'http',
  path,
});

const mosq = (expect: AdapterOutcome, why: DifferenceId) => ({ mosquitto: { expect, why } });
const goAuth = (expect: AdapterOutcome) => ({ 'go-auth': { expect, why: 'go-auth-qos-retain' as const } });
/** A partial grant without one allow covering the whole filter (rule `a/+`, subscription `a/#`). */
const onlyMet = mosq('deny', 'dynsec-partial-needs-covering-allow');
const noShare = { aedes: { expect: 'deny' as const, why: 'aedes-no-shared-subscriptions' as const } };

export const SCENARIOS: readonly ConformanceScenario[] = [
  {
    name: 'the sensor role of docs/access-rules.md',
    username: 'cf-spec',
    clientid: 'cf-spec-c',
    roles: [
      {
        name: 'spec',
        rules: [
          allow('publish', 'dt/${username}/+/up', { qos: [0, 1] }),
          deny('all', 'dt/${username}/secret/#'),
          allow('subscribe', 'cmd/${clientid}/#', { retain: false }),
        ],
      },
    ],
    cases: [
      pub('dt/cf-spec/t/up', 'allow', {
        differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') },
      }),
      pub('dt/cf-spec/t/up', 'allow', {
        qos: 1,
        differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') },
      }),
      pub('dt/cf-spec/t/up', 'deny', { qos: 2 }),
      // First match wins: `dt/${username}/+/up` matches before the secret deny is reached.
      pub('dt/cf-spec/secret/up', 'allow', {
        differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') },
      }),
      pub('dt/cf-spec/secret/x', 'deny'),
      sub('cmd/cf-spec-c/#', 'allow', { differ: mosq('deny', 'dynsec-clientid-unbound') }),
      sub('cmd/cf-spec-c/a', 'allow', { qos: 2, differ: mosq('deny', 'dynsec-clientid-unbound') }),
      recv('cmd/cf-spec-c/a', 'allow', {
        differ: { ...mosq('deny', 'dynsec-clientid-unbound'), ...goAuth('deny') },
      }),
      recv('cmd/cf-spec-c/a', 'deny', { retain: true }),
      sub('dt/cf-spec/secret/#', 'deny'),
      sub('cmd/other/#', 'deny'),
      pub('cmd/cf-spec-c/x', 'deny'),
    ],
  },
  {
    name: 'literal, + and # publish rules; no match denies',
    username: 'cf-pub',
    clientid: 'cf-pub-c',
    roles: [
      { name: 'pub', rules: [allow('publish', 'a/b'), allow('publish', 'x/+/z'), allow('publish', 'm/#')] },
    ],
    cases: [
      pub('a/b', 'allow'),
      pub('a/b', 'allow', { qos: 1 }),
      pub('a/b', 'allow', { qos: 2 }),
      pub('a/c', 'deny'),
      pub('a/b/c', 'deny'),
      pub('a', 'deny', { qos: 1 }),
      pub('x/y/z', 'allow'),
      pub('x/y/y', 'deny'),
      pub('x//z', 'allow', { qos: 1 }),
      pub('x/y/z/w', 'deny'),
      pub('m', 'allow'),
      pub('m/n/o/p', 'allow', { qos: 2 }),
      pub('mm/n', 'deny'),
      pub('b/a', 'deny'),
      pub('a/b', 'allow', { retain: true }),
      sub('a/b', 'deny'),
      sub('m/#', 'deny', { qos: 1 }),
      recv('a/b', 'deny'),
    ],
  },
  {
    name: 'first match wins: deny before allow, allow before deny',
    username: 'cf-order',
    clientid: 'cf-order-c',
    roles: [
      {
        name: 'order',
        rules: [
          deny('publish', 'd/secret/#'),
          allow('publish', 'd/#'),
          allow('publish', 'e/open'),
          deny('publish', 'e/#'),
        ],
      },
    ],
    cases: [
      pub('d/secret', 'deny'),
      pub('d/secret/x', 'deny', { qos: 1 }),
      pub('d/public', 'allow'),
      pub('d', 'allow'),
      pub('d/secretive', 'allow'),
      pub('e/open', 'allow', { qos: 1 }),
      pub('e/closed', 'deny'),
      pub('e', 'deny'),
    ],
  },
  {
    name: 'a filter an allow covers is granted, one it only meets is partially granted',
    username: 'cf-cover',
    clientid: 'cf-cover-c',
    roles: [
      {
        name: 'cover',
        rules: [
          allow('subscribe', 'a/+'),
          allow('subscribe', 'b/#'),
          allow('subscribe', 'c/+/d'),
          allow('subscribe', 'lit/x'),
        ],
      },
    ],
    cases: [
      sub('a/b', 'allow'),
      sub('a/+', 'allow', { qos: 1 }),
      sub('a/#', 'partial', { differ: onlyMet }),
      sub('a', 'deny'),
      sub('a/b/c', 'deny'),
      sub('b', 'allow'),
      sub('b/#', 'allow', { qos: 2 }),
      sub('b/+/c', 'allow'),
      sub('b/x/y/z', 'allow'),
      sub('#', 'partial', { differ: onlyMet }),
      sub('+/x', 'partial', { differ: onlyMet }),
      sub('c/x/d', 'allow'),
      sub('c/+/d', 'allow'),
      sub('c/#', 'partial', { differ: onlyMet }),
      sub('lit/x', 'allow'),
      sub('lit/+', 'partial', { differ: onlyMet }),
      recv('a/b', 'allow'),
      recv('b/x/y', 'allow', { qos: 1 }),
      recv('c/x/d', 'allow', { qos: 2 }),
      recv('c/x/e', 'deny'),
      pub('a/b', 'deny'),
    ],
  },
  {
    name: 'a deny that overlaps a subscription makes it a partial grant; deliveries of the overlap are refused',
    username: 'cf-overlap',
    clientid: 'cf-overlap-c',
    roles: [
      {
        name: 'overlap',
        rules: [
          deny('subscribe', 'a/secret/#'),
          allow('subscribe', 'a/#'),
          deny('subscribe', 'b/+/x'),
          allow('subscribe', 'b/#'),
        ],
      },
    ],
    cases: [
      sub('a/#', 'partial'),
      sub('a/+/x', 'partial'),
      sub('a/secret/x', 'deny'),
      sub('a/secret', 'deny'),
      sub('a/public/x', 'allow'),
      sub('a/public/#', 'allow', { qos: 1 }),
      sub('b/#', 'partial'),
      sub('b/y/x', 'deny'),
      sub('b/y/z', 'allow'),
      recv('a/public/x', 'allow'),
      recv('a/secret/x', 'deny', { via: 'a/#' }),
      recv('b/y/x', 'deny', { via: 'b/#' }),
      recv('b/y/z', 'allow', { via: 'b/y/z' }),
    ],
  },
  {
    name: 'a carve-out never blocks wide subscriptions (the Paho interoperability user)',
    username: 'cf-carve',
    clientid: 'cf-carve-c',
    roles: [
      {
        name: 'carve',
        rules: [
          deny('subscribe', 'test/nosubscribe'),
          allow('all', '#'),
          deny('subscribe', 'x/b'),
          allow('subscribe', 'x/+'),
        ],
      },
    ],
    cases: [
      sub('#', 'partial'),
      sub('+/+', 'partial', { qos: 2 }),
      sub('test/#', 'partial'),
      sub('test/nosubscribe', 'deny'),
      sub('TopicA/+', 'allow', { qos: 1 }),
      sub('/#', 'allow'),
      sub('$SYS/#', 'deny', { differ: mosq('allow', 'dynsec-dollar-wildcard') }),
      recv('TopicA/B', 'allow', { via: '#' }),
      recv('test/nosubscribe', 'deny', { via: '#' }),
      recv('test/other', 'allow', { via: '+/+', qos: 1 }),
      pub('test/nosubscribe', 'allow'),
      pub('$TopicA/B', 'deny'),
    ],
  },
  {
    name: 'a deny covering what an allow grants of a filter refuses it',
    username: 'cf-carve-all',
    clientid: 'cf-carve-all-c',
    roles: [{ name: 'carve-all', rules: [deny('subscribe', 'x/b'), allow('subscribe', 'x/+')] }],
    cases: [
      sub('+/b', 'deny'),
      sub('x/+', 'partial'),
      sub('x/c', 'allow'),
      sub('x/b', 'deny'),
      recv('x/c', 'allow', { via: 'x/+' }),
      recv('x/b', 'deny', { via: 'x/+' }),
    ],
  },
  {
    name: 'action all covers publish, subscribe and delivery',
    username: 'cf-all',
    clientid: 'cf-all-c',
    roles: [
      {
        name: 'all',
        rules: [
          deny('all', 'h/private/#'),
          allow('all', 'h/#'),
          allow('subscribe', 'only-sub/#'),
          allow('publish', 'only-pub/#'),
        ],
      },
    ],
    cases: [
      pub('h/x', 'allow'),
      pub('h/private/x', 'deny'),
      sub('h/x/#', 'allow'),
      sub('h/private/#', 'deny'),
      sub('h/#', 'partial'),
      recv('h/x', 'allow', { qos: 1 }),
      recv('h/private/y', 'deny', { via: 'h/#' }),
      pub('only-sub/x', 'deny'),
      sub('only-sub/x', 'allow'),
      recv('only-sub/x', 'allow'),
      pub('only-pub/x', 'allow'),
      sub('only-pub/x', 'deny'),
      recv('only-pub/x', 'deny'),
    ],
  },
  {
    name: '${username} placeholders, also inside a level',
    username: 'cf-user',
    clientid: 'cf-user-c',
    roles: [
      {
        name: 'user',
        rules: [
          deny('all', 'dt/${username}/secret/#'),
          allow('publish', 'dt/${username}/+/up'),
          allow('subscribe', 'cmd/${username}/#'),
          allow('all', 'home-${username}/#'),
        ],
      },
    ],
    cases: [
      pub('dt/cf-user/t1/up', 'allow'),
      pub('dt/cf-user/t1/up', 'allow', { qos: 2 }),
      pub('dt/other/t1/up', 'deny'),
      pub('dt/cf-user/secret/up', 'deny'),
      pub('dt/${username}/t1/up', 'deny'),
      sub('cmd/cf-user/#', 'allow'),
      sub('cmd/cf-user/a', 'allow', { qos: 1 }),
      sub('cmd/other/#', 'deny'),
      sub('cmd/+/#', 'partial', { differ: onlyMet }),
      recv('cmd/cf-user/a', 'allow'),
      recv('cmd/other/a', 'deny'),
      pub('home-cf-user/x', 'allow'),
      pub('home-other/x', 'deny'),
      sub('home-cf-user/#', 'allow'),
      recv('home-cf-user/a/b', 'allow', { qos: 1 }),
    ],
  },
  {
    name: '${clientid} placeholders',
    username: 'cf-cid',
    clientid: 'cf-cid-c7',
    roles: [
      {
        name: 'cid',
        rules: [
          deny('publish', 'dev/${clientid}/locked'),
          allow('publish', 'dev/${clientid}/#'),
          allow('subscribe', 'in/${clientid}/#'),
        ],
      },
    ],
    cases: [
      pub('dev/cf-cid-c7/x', 'allow', { differ: mosq('deny', 'dynsec-clientid-unbound') }),
      pub('dev/cf-cid-c7/locked', 'deny'),
      pub('dev/other/x', 'deny'),
      pub('dev/other/locked', 'deny'),
      sub('in/cf-cid-c7/#', 'allow', { differ: mosq('deny', 'dynsec-clientid-unbound') }),
      sub('in/cf-cid-c7/a', 'allow', { qos: 1, differ: mosq('deny', 'dynsec-clientid-unbound') }),
      sub('in/other/#', 'deny'),
      recv('in/cf-cid-c7/a', 'allow', {
        via: 'in/cf-cid-c7/a',
        differ: mosq('deny', 'dynsec-clientid-unbound'),
      }),
    ],
  },
  {
    name: 'QoS conditions on publish rules',
    username: 'cf-qos',
    clientid: 'cf-qos-c',
    roles: [
      {
        name: 'qos',
        rules: [
          allow('publish', 'q/low', { qos: [0, 1] }),
          allow('publish', 'q/any'),
          deny('publish', 'q/nohigh', { qos: [2] }),
          allow('publish', 'q/nohigh'),
        ],
      },
    ],
    cases: [
      pub('q/low', 'allow', { differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') } }),
      pub('q/low', 'allow', { qos: 1, differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') } }),
      pub('q/low', 'deny', { qos: 2 }),
      pub('q/any', 'allow', { qos: 2 }),
      pub('q/any', 'allow'),
      pub('q/nohigh', 'allow', { differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') } }),
      pub('q/nohigh', 'allow', {
        qos: 1,
        differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') },
      }),
      pub('q/nohigh', 'deny', { qos: 2 }),
    ],
  },
  {
    name: 'retain conditions on publish rules',
    username: 'cf-retain',
    clientid: 'cf-retain-c',
    roles: [
      {
        name: 'retain',
        rules: [
          deny('publish', 'r/state/#', { retain: false }),
          allow('publish', 'r/#'),
          allow('publish', 'live/#', { retain: false }),
        ],
      },
    ],
    cases: [
      pub('r/state/a', 'allow', {
        retain: true,
        differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') },
      }),
      pub('r/state/a', 'deny'),
      pub('r/other', 'allow'),
      pub('r/other', 'allow', { retain: true, qos: 1 }),
      pub('live/x', 'allow', { differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') } }),
      pub('live/x', 'deny', { retain: true }),
    ],
  },
  {
    name: 'retain and QoS conditions on subscribe rules govern deliveries',
    username: 'cf-deliver',
    clientid: 'cf-deliver-c',
    roles: [
      {
        name: 'deliver',
        rules: [
          allow('subscribe', 'fleet/#', { retain: false }),
          allow('subscribe', 'slow/#', { qos: [0, 1] }),
          allow('subscribe', 'any/#'),
        ],
      },
    ],
    cases: [
      sub('fleet/#', 'allow'),
      sub('fleet/a', 'allow', { qos: 2 }),
      recv('fleet/a', 'allow', { differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') } }),
      recv('fleet/a', 'allow', {
        qos: 1,
        differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') },
      }),
      recv('fleet/a', 'deny', { retain: true }),
      sub('slow/#', 'allow', { differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') } }),
      sub('slow/x', 'allow', { qos: 1, differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') } }),
      sub('slow/x', 'deny', { qos: 2 }),
      sub('any/#', 'allow', { qos: 2 }),
      recv('any/x', 'allow', { retain: true }),
      recv('any/x', 'allow', { qos: 2 }),
    ],
  },
  {
    name: 'shared subscriptions are checked on the inner filter',
    username: 'cf-share',
    clientid: 'cf-share-c',
    roles: [
      {
        name: 'share',
        rules: [allow('subscribe', 'jobs/#'), deny('subscribe', 'secret/#'), allow('subscribe', '#')],
      },
    ],
    cases: [
      sub('$share/workers/jobs/#', 'allow', { differ: noShare }),
      sub('$share/workers/jobs/a', 'allow', { qos: 1, differ: noShare }),
      sub('$share/g/other/a', 'allow', { differ: noShare }),
      sub('$share/g/secret/x', 'deny'),
      sub('jobs/a', 'allow'),
      sub('secret/x', 'deny'),
      recv('jobs/a', 'allow'),
      recv('secret/x', 'deny', { via: 'secret/x' }),
    ],
  },
  {
    name: '$SYS and other $ topics',
    username: 'cf-dollar',
    clientid: 'cf-dollar-c',
    roles: [
      {
        name: 'dollar',
        rules: [allow('publish', '$SYS/#'), allow('all', '#'), allow('subscribe', '$SYS/broker/#')],
      },
    ],
    cases: [
      pub('$SYS/x', 'deny'),
      pub('$SYS/broker/load', 'deny', { qos: 1 }),
      pub('$foo/x', 'deny'),
      pub('normal/x', 'allow'),
      sub('$SYS/broker/#', 'allow'),
      sub('$SYS/#', 'partial', { differ: mosq('allow', 'dynsec-dollar-wildcard') }),
      sub('#', 'allow'),
      sub('+/x', 'allow'),
      sub('$foo/x', 'deny', { differ: mosq('allow', 'dynsec-dollar-wildcard') }),
      sub('$SYS/broker/load', 'allow', { qos: 1 }),
      pub('$SYS', 'deny'),
      recv('normal/y', 'allow', { via: '#' }),
      recv('x/y', 'allow', { via: '+/y', qos: 1 }),
    ],
  },
  {
    name: 'roles are evaluated in order',
    username: 'cf-roles',
    clientid: 'cf-roles-c',
    roles: [
      { name: 'first', rules: [deny('publish', 'shared/x'), allow('subscribe', 'shared/#')] },
      { name: 'second', rules: [allow('publish', 'shared/#'), deny('subscribe', 'shared/#')] },
      { name: 'third', rules: [allow('all', 'third/#')] },
    ],
    cases: [
      pub('shared/x', 'deny'),
      pub('shared/y', 'allow'),
      sub('shared/#', 'allow'),
      sub('shared/a', 'allow', { qos: 1 }),
      recv('shared/a', 'allow'),
      pub('third/a', 'allow', { qos: 2 }),
      sub('third/#', 'allow'),
      pub('fourth/a', 'deny'),
    ],
  },
  {
    name: 'empty levels and leading slashes are levels like any other',
    username: 'cf-empty',
    clientid: 'cf-empty-c',
    roles: [
      {
        name: 'empty',
        rules: [allow('publish', 'e/+'), allow('publish', '/lead/#'), allow('subscribe', 'f//g')],
      },
    ],
    cases: [
      pub('e/', 'allow'),
      pub('e/x', 'allow'),
      pub('e', 'deny'),
      pub('e//', 'deny'),
      pub('/lead', 'allow'),
      pub('/lead/x', 'allow', { qos: 1 }),
      pub('lead/x', 'deny'),
      sub('f//g', 'allow'),
      sub('f/x/g', 'deny'),
      sub('f/+/g', 'partial', { differ: onlyMet }),
    ],
  },
  {
    name: 'no roles: nothing is allowed',
    username: 'cf-none',
    clientid: 'cf-none-c',
    roles: [],
    cases: [
      pub('a', 'deny'),
      pub('a/b', 'deny', { qos: 1 }),
      sub('#', 'deny'),
      sub('a/b', 'deny'),
      recv('a/b', 'deny'),
    ],
  },
  {
    name: 'a deactivated user is refused everything',
    username: 'cf-inactive',
    clientid: 'cf-inactive-c',
    active: false,
    roles: [{ name: 'inactive', rules: [allow('all', '#')] }],
    cases: [
      pub('a/b', 'deny'),
      pub('a/b', 'deny', { qos: 1 }),
      sub('a/#', 'deny'),
      sub('#', 'deny', { qos: 1 }),
      recv('a/b', 'deny', { via: '#' }),
    ],
  },
  {
    name: 'spaces and unicode are ordinary characters',
    username: 'cf-chars',
    clientid: 'cf-chars-c',
    roles: [{ name: 'chars', rules: [allow('all', 'hall 1/+/température'), allow('publish', 'ü/#')] }],
    cases: [
      pub('hall 1/a/température', 'allow'),
      pub('hall 1/a/temperature', 'deny'),
      pub('hall1/a/température', 'deny'),
      sub('hall 1/+/température', 'allow'),
      recv('hall 1/b/température', 'allow'),
      pub('ü/x', 'allow'),
      pub('u/x', 'deny'),
    ],
  },
  {
    name: 'a deny rule with a QoS condition',
    username: 'cf-denyqos',
    clientid: 'cf-denyqos-c',
    roles: [{ name: 'denyqos', rules: [deny('all', 'v/#', { qos: [2] }), allow('all', 'v/#')] }],
    cases: [
      pub('v/a', 'allow', { differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') } }),
      pub('v/a', 'deny', { qos: 2 }),
      sub('v/#', 'allow', { qos: 1, differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') } }),
      sub('v/#', 'deny', { qos: 2 }),
      recv('v/a', 'allow', {
        via: 'v/a',
        differ: { ...mosq('deny', 'dynsec-qos-retain'), ...goAuth('deny') },
      }),
    ],
  },
  {
    name: 'deep wildcards',
    username: 'cf-deep',
    clientid: 'cf-deep-c',
    roles: [{ name: 'deep', rules: [allow('all', '+/+/status'), allow('subscribe', 'plant/+/line/+/#')] }],
    cases: [
      pub('a/b/status', 'allow'),
      pub('a/status', 'deny'),
      pub('a/b/c/status', 'deny'),
      sub('+/+/status', 'allow'),
      sub('a/+/status', 'allow', { qos: 1 }),
      sub('#', 'partial', { differ: onlyMet }),
      sub('+/#', 'partial', { differ: onlyMet }),
      sub('plant/p1/line/l2/#', 'allow'),
      sub('plant/p1/line/l2', 'allow'),
      sub('plant/p1/line', 'deny'),
      sub('plant/+/line/+/x/+', 'allow'),
      sub('plant/#', 'partial', { differ: onlyMet }),
      recv('plant/p1/line/l2/t', 'allow', { via: 'plant/+/line/+/#' }),
      recv('x/y/status', 'allow', { qos: 2 }),
    ],
  },
  {
    name: 'the same topic in several rules: the first applicable one decides',
    username: 'cf-dup',
    clientid: 'cf-dup-c',
    roles: [
      { name: 'dup-a', rules: [allow('publish', 'k/1'), deny('publish', 'k/1'), deny('subscribe', 'k/2')] },
      {
        name: 'dup-b',
        rules: [allow('subscribe', 'k/2'), allow('subscribe', 'k/3'), deny('subscribe', 'k/3')],
      },
    ],
    cases: [
      pub('k/1', 'allow'),
      pub('k/1', 'allow', { qos: 2 }),
      sub('k/2', 'deny'),
      sub('k/3', 'allow'),
      recv('k/3', 'allow'),
      recv('k/2', 'deny'),
    ],
  },
  {
    name: 'HTTP rules in a role never decide MQTT requests (docs/access-rules.md#http-rules)',
    username: 'cf-http',
    clientid: 'cf-http-c',
    roles: [
      {
        name: 'http-mixed',
        rules: [
          http('allow', '/**'),
          deny('publish', 'h/secret'),
          http('deny', '/h/**'),
          allow('all', 'h/#'),
          http('allow', '/${username}/**'),
        ],
      },
      { name: 'http-only', rules: [http('allow', '/**'), http('deny', '/x/**')] },
    ],
    cases: [
      pub('h/secret', 'deny'),
      pub('h/open', 'allow', { qos: 1 }),
      sub('h/open/#', 'allow'),
      recv('h/news', 'allow'),
      pub('x', 'deny'),
      pub('cf-http/a', 'deny'),
      sub('x/#', 'deny'),
      recv('x/y', 'deny', { via: 'x/y' }),
    ],
  },
];
