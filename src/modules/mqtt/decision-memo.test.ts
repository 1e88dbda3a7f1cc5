import { describe, expect, it } from 'vitest';
import type { AccessSubject } from '../access/access.service.js';
import { type AccessRule, compileHttpRules, compileRoles, decide, type QoS } from '../access-engine/index.js';
import { DecisionMemo } from './decision-memo.js';

function subject(rules: AccessRule[]): AccessSubject {
  return {
    userId: 'u1',
    username: 'dev-1',
    roles: [],
    compiled: compileRoles([{ name: 'r', rules }]),
    http: compileHttpRules([]),
  };
}

describe('DecisionMemo', () => {
  const identity = { username: 'dev-1', clientid: 'c1' };
  const rules: AccessRule[] = [
    { permission: 'deny', action: 'all', topic: 'dt/${username}/secret', retain: true },
    { permission: 'allow', action: 'publish', topic: 'dt/${username}/+', qos: [0, 1] },
    { permission: 'allow', action: 'subscribe', topic: 'dt/#', retain: false },
  ];

  it('answers exactly what the engine answers, for every action, QoS and retain flag', () => {
    const s = subject(rules);
    const memo = new DecisionMemo(identity);
    for (let pass = 0; pass < 2; pass++) {
      for (const topic of ['dt/dev-1/a', 'dt/dev-1/secret', 'dt/dev-2/a', 'x', '$SYS/x', 'a/+']) {
        for (const action of ['publish', 'receive'] as const) {
          for (const qos of [0, 1, 2] as QoS[]) {
            for (const retain of [false, true]) {
              const expected = decide(s.compiled, identity, { action, topic, qos, retain }).allowed;
              expect(memo.allows(s, action, topic, qos, retain), `${action} ${topic} ${qos} ${retain}`).toBe(
                expected,
              );
            }
          }
        }
      }
    }
  });

  it('starts over when the compiled rule set changes', () => {
    const memo = new DecisionMemo(identity);
    expect(memo.allows(subject(rules), 'publish', 'dt/dev-1/a', 0, false)).toBe(true);
    expect(memo.allows(subject([]), 'publish', 'dt/dev-1/a', 0, false)).toBe(false);
  });

  it('stays correct past its size bound', () => {
    const s = subject(rules);
    const memo = new DecisionMemo(identity);
    for (let i = 0; i < 1_000; i++) expect(memo.allows(s, 'publish', `dt/dev-1/t${i}`, 1, false)).toBe(true);
    expect(memo.allows(s, 'publish', 'dt/dev-1/t1', 2, false)).toBe(false);
  });
});
