import { describe, expect, it } from 'vitest';
import {
  authorize,
  canActOn,
  canGrant,
  type Decision,
} from '../../src/modules/permissions/permissions.policy.js';
import { describeDenial } from '../../web/src/i18n/denial.js';
import { de } from '../../web/src/i18n/messages.de.js';
import { en, type Messages } from '../../web/src/i18n/messages.en.js';

/** The console's `t` for one dictionary (the same `{name}` filling as web/src/i18n/i18n.tsx). */
function translator(messages: Messages) {
  return (key: keyof Messages, values: Readonly<Record<string, string | number>> = {}): string =>
    messages[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      Object.hasOwn(values, name) ? String(values[name]) : whole,
    );
}

function denialOf(decision: Decision) {
  if (decision.allowed) throw new Error('expected a refusal');
  return decision.denial;
}

const viewer = {
  type: 'user',
  userId: 'v',
  username: 'vera',
  role: 'viewer',
  scopes: [],
  sessionId: 's',
} as const;
const keeper = {
  type: 'user',
  userId: 'k',
  username: 'keeper',
  role: 'admin',
  scopes: ['user_management'],
  sessionId: 's',
} as const;

/** A 403 says in words what was missing, from the server policy's own denials, in every language. */
describe('refusals in words', () => {
  const cases = [
    ['a viewer’s write', denialOf(authorize(viewer, 'active', { kind: 'write', scope: 'asset_management' }))],
    [
      'a missing scope',
      denialOf(authorize(viewer, 'active', { kind: 'read', anyOf: ['user_management', 'asset_management'] })),
    ],
    ['an open login step', denialOf(authorize(viewer, 'mfa', { kind: 'self' }))],
    ['a grant not held', denialOf(canGrant(keeper, 'admin', ['system_config']))],
    [
      'root',
      denialOf(
        canActOn(keeper, { username: 'admin', role: 'admin', scopes: ['user_management'], protected: true }),
      ),
    ],
    [
      'a user who outranks',
      denialOf(
        canActOn(keeper, {
          username: 'otto',
          role: 'operator',
          scopes: ['asset_management'],
          protected: false,
        }),
      ),
    ],
  ] as const;

  it.each(cases)('%s', (_name, denial) => {
    const english = describeDenial(translator(en), denial);
    const german = describeDenial(translator(de), denial);
    expect(english).toBeTruthy();
    expect(german).toBeTruthy();
    expect(english).not.toMatch(/\{\w+\}/);
    expect(german).not.toMatch(/\{\w+\}/);
    expect(english).not.toBe(german);
  });

  it('names the role, the scopes and the target', () => {
    const t = translator(en);
    expect(describeDenial(t, cases[0][1])).toBe('It needs the role operator; you are viewer.');
    expect(describeDenial(t, cases[1][1])).toBe(
      'It needs the permission User Management or Asset Management.',
    );
    expect(describeDenial(t, cases[3][1])).toBe(
      'You cannot grant permissions you do not hold yourself: System Config.',
    );
    expect(describeDenial(t, cases[4][1])).toMatch(/^admin is the root user/);
    expect(describeDenial(t, cases[5][1])).toBe('otto holds permissions you do not: Asset Management.');
  });
});
