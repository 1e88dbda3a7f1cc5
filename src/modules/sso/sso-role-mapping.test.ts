import { describe, expect, it } from 'vitest';
import { groupsOf, mapRole } from './sso-role-mapping.js';

const provider = {
  defaultRole: 'viewer' as const,
  defaultScopes: null,
  roleMapping: [
    { value: 'ops', role: 'operator' as const },
    { value: 'admins', role: 'admin' as const, scopes: ['user_management' as const] },
    { value: 'auditors', role: 'viewer' as const, scopes: ['log_management' as const] },
  ],
};

describe('SSO role mapping', () => {
  it('no matching group: the default role with its default scopes (or the configured ones, if compatible)', () => {
    expect(mapRole(provider, ['staff'])).toEqual({ role: 'viewer', scopes: [], matched: [] });
    expect(
      mapRole(
        { ...provider, defaultRole: 'operator', defaultScopes: ['log_management', 'user_management'] },
        [],
      ),
    ).toEqual({
      role: 'operator',
      scopes: ['log_management'],
      matched: [],
    });
  });

  it('the highest matching role wins and the scopes of every match are united', () => {
    expect(mapRole(provider, ['auditors', 'ops'])).toEqual({
      role: 'operator',
      scopes: ['asset_management', 'log_management'],
      matched: ['ops', 'auditors'],
    });
    expect(mapRole(provider, ['admins', 'auditors'])).toEqual({
      role: 'admin',
      scopes: ['user_management', 'log_management'],
      matched: ['admins', 'auditors'],
    });
  });

  it('reads a groups claim as an array of strings or one string', () => {
    expect(groupsOf({ groups: ['a', 1, 'b'] }, 'groups')).toEqual(['a', 'b']);
    expect(groupsOf({ roles: 'ops' }, 'roles')).toEqual(['ops']);
    expect(groupsOf({ groups: { a: 1 } }, 'groups')).toEqual([]);
    expect(groupsOf({}, 'groups')).toEqual([]);
  });
});
