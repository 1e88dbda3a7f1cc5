// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule topics spell the placeholders ${username} / ${clientid} literally
/**
 * Differential test of the access-rule engine against the naive reference (test/helpers): ≥ 1,000,000
 * generated (rules, identity, action, topic, qos, retain) queries from a seeded PRNG must get the same
 * allowed / reason / role / ruleIndex. The alphabet is small on purpose so rules and topics collide often,
 * and it is salted with the edge cases of MQTT §4.7: `$` levels, empty levels, placeholders inside levels,
 * identities that cannot be expanded, shared subscriptions and malformed topics and rules.
 */

import { describe, expect, it } from 'vitest';
import {
  type AccessRequest,
  type AccessRule,
  compileRoles,
  decide,
  type HttpRule,
  type Identity,
  isHttpRule,
  type QoS,
  type RoleRule,
  type RoleRules,
} from '../../src/modules/access-engine/index.js';
import { type NaiveDecision, naiveDecide, seededRandom } from '../helpers/naive-access-reference.js';

const SEED = 20_260_101;
const RULE_SETS = 2_500;
const QUERIES_PER_SET = 400;
// a few users share each compiled role list, as in real deployments
const USERS_PER_SET = 4;

const random = seededRandom(SEED);
const int = (n: number): number => Math.floor(random() * n);
const chance = (p: number): boolean => random() < p;
function pick<T>(items: readonly T[]): T {
  return items[int(items.length)] as T;
}

const LEVELS = ['a', 'b', 'c', '', '$SYS', '$x', 'dev-1', 'α', '😀'];
const RULE_LEVELS = [
  ...LEVELS,
  '+',
  '${username}',
  '${clientid}',
  'p-${username}',
  '${clientid}-q',
  '${username}${clientid}',
  '$${username}',
];
// levels equal to placeholder expansions for the identities below, so expanded rules meet topics
const TOPIC_LEVELS = [...LEVELS, 'p-a', 'p-dev-1', 'c-q', 'a-q', 'ab', 'ac', '$a', '$$x', '${clientid}'];
const USERNAMES = ['a', 'b', 'dev-1', '$x', '$', 'u/x', '', 'p+', '${clientid}', 'α'];
const CLIENTIDS = [undefined, null, '', 'a', 'c', 'dev-1', 'c#', 'b', '$x'];
const BAD_RULE_TOPICS = [
  '',
  'a/#/b',
  'a+',
  'a/b#',
  '${user}/a',
  '$share/g/a',
  '$share',
  'a\u0000',
  '#/a',
  'x\ud800',
];
const BAD_FILTERS = [
  '',
  '$share//a',
  '$share/g',
  '$share/g/',
  '$share/+/a',
  'a/#/b',
  'a+',
  'a\u0000',
  'x\udc00',
];
const HUGE_TOPICS = [
  Array(100).fill('a').join('/'),
  Array(101).fill('a').join('/'),
  `${'€'.repeat(21_844)}xxx`, // 65535 bytes
  `${'€'.repeat(21_845)}`, // 65535 bytes, 3 per char
  `${'€'.repeat(21_845)}x`, // 65536 bytes
];
const QOS: readonly (QoS | undefined)[] = [0, 1, 2, undefined];

function levels(alphabet: readonly string[], count: number): string[] {
  return Array.from({ length: count }, () => pick(alphabet));
}

function ruleTopic(): string {
  if (chance(0.02)) return pick(BAD_RULE_TOPICS);
  if (chance(0.05)) return '#';
  const topic = levels(RULE_LEVELS, 1 + int(4));
  if (chance(0.3)) topic.push('#');
  return topic.join('/');
}

function rule(): AccessRule {
  const generated: AccessRule = {
    permission: chance(0.6) ? 'allow' : 'deny',
    action: pick(['publish', 'subscribe', 'all'] as const),
    topic: ruleTopic(),
  };
  if (chance(0.25)) generated.qos = [0, 1, 2].filter(() => chance(0.6)) as QoS[];
  if (chance(0.2)) generated.retain = chance(0.5);
  if (chance(0.005)) generated.qos = [3 as QoS];
  return generated;
}

/** HTTP rules mixed into the roles: MQTT decisions must be the same with them (and rule indices count them). */
function httpRule(): HttpRule {
  return {
    permission: chance(0.5) ? 'allow' : 'deny',
    action: 'http',
    path: pick(['/**', '/a/*', '/${username}/**', '/']),
  };
}

function roleList(): RoleRules[] {
  return Array.from({ length: 1 + int(3) }, (_, r) => ({
    name: `role-${r}`,
    rules: Array.from({ length: int(7) }, (): RoleRule => (chance(0.15) ? httpRule() : rule())),
  }));
}

function identity(): Identity {
  const clientid = pick(CLIENTIDS);
  return clientid === undefined ? { username: pick(USERNAMES) } : { username: pick(USERNAMES), clientid };
}

function subscriptionTopic(): string {
  if (chance(0.02)) return pick(BAD_FILTERS);
  const topic = levels(TOPIC_LEVELS, 1 + int(5)).map((level) => (chance(0.2) ? '+' : level));
  if (chance(0.25)) topic.push('#');
  if (chance(0.05)) return '#';
  return (chance(0.1) ? '$share/g/' : '') + topic.join('/');
}

/** A topic close to a rule: wildcards filled in (or kept, for a subscription), placeholders expanded. */
function topicNear(rule: AccessRule, who: Identity, subscribe: boolean): string {
  const near: string[] = [];
  for (const level of rule.topic.split('/')) {
    if (level === '#') near.push(...(subscribe && chance(0.5) ? ['#'] : levels(TOPIC_LEVELS, int(3))));
    else if (level === '+') near.push(subscribe && chance(0.5) ? '+' : pick(TOPIC_LEVELS));
    else
      near.push(level.replaceAll('${username}', who.username).replaceAll('${clientid}', who.clientid ?? ''));
  }
  if (subscribe && chance(0.2)) near[int(near.length)] = '+';
  return (subscribe && chance(0.1) ? '$share/g/' : '') + near.join('/');
}

function request(rules: readonly AccessRule[], who: Identity): AccessRequest {
  const action = pick(['publish', 'subscribe', 'receive'] as const);
  let topic: string;
  if (chance(0.0002)) topic = pick(HUGE_TOPICS);
  else if (rules.length > 0 && chance(0.5)) topic = topicNear(pick(rules), who, action === 'subscribe');
  else if (action === 'subscribe') topic = subscriptionTopic();
  else if (chance(0.02)) topic = pick([...BAD_FILTERS, 'a/+', '#', 'a/#']);
  else topic = levels(TOPIC_LEVELS, 1 + int(5)).join('/');
  const generated: AccessRequest = { action, topic };
  const qos = pick(QOS);
  if (qos !== undefined) generated.qos = qos;
  if (chance(0.7)) generated.retain = chance(0.5);
  return generated;
}

function sameDecision(ours: NaiveDecision, naive: NaiveDecision): boolean {
  return (
    ours.allowed === naive.allowed &&
    ours.reason === naive.reason &&
    ours.role === naive.role &&
    ours.ruleIndex === naive.ruleIndex
  );
}

describe('access engine vs naive reference', () => {
  it('agrees on 1,000,000 generated queries', () => {
    const started = performance.now();
    let queries = 0;
    let disagreements = 0;
    const outcomes = new Map<string, number>();
    const mismatches: unknown[] = [];
    for (let s = 0; s < RULE_SETS; s++) {
      const roles = roleList();
      const compiled = compileRoles(roles);
      const users = Array.from({ length: USERS_PER_SET }, identity);
      const rules = roles.flatMap((role) => role.rules).filter((stored) => !isHttpRule(stored));
      for (let i = 0; i < QUERIES_PER_SET; i++) {
        const who = pick(users);
        const what = request(rules, who);
        const ours = decide(compiled, who, what);
        const naive = naiveDecide(roles, who, what);
        queries++;
        const outcome = `${ours.allowed ? 'allow' : 'deny'}/${ours.reason}`;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        if (sameDecision(ours, naive)) continue;
        disagreements++;
        if (mismatches.length < 5) mismatches.push({ roles, identity: who, request: what, ours, naive });
      }
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `access engine differential: ${queries} queries, ${disagreements} disagreements, ` +
        `${seconds} s (seed ${SEED}); outcomes: ${[...outcomes].map(([key, count]) => `${key} ${count}`).join(', ')}`,
    );
    if (mismatches.length > 0) console.log(JSON.stringify(mismatches, null, 2));
    expect(queries).toBeGreaterThanOrEqual(1_000_000);
    expect(disagreements).toBe(0);
  }, 120_000);
});
