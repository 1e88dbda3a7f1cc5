import { describe, expect, it } from 'vitest';
import type { DirectoryRole, DirectoryUser } from '../broker-integration.js';
import { aclsForRules, desiredState, desiredUser, indexRoles, sharedRole } from './dynsec-model.js';
import { planClient, planFull, planRole } from './dynsec-plan.js';

const user = (
  username: string,
  accessRoles: string[],
  extra: Partial<DirectoryUser> = {},
): DirectoryUser => ({
  username,
  active: true,
  description: '',
  kind: 'device',
  localPassword: true,
  accessRoles,
  ...extra,
});
const origin = { role: 'r', index: 0 };
const options = { clientIdBinding: 'none' as const, adminUsername: 'dynsec-admin' };

describe('Warden rules as dynsec ACLs', () => {
  it('maps actions to ACL types (subscriptions also as $share) with unique descending priorities in rule order', () => {
    const acls = aclsForRules(
      [
        { rule: { permission: 'deny', action: 'all', topic: 'a/secret/#' }, origin },
        { rule: { permission: 'allow', action: 'publish', topic: 'a/+/up' }, origin },
        { rule: { permission: 'allow', action: 'subscribe', topic: 'cmd/#' }, origin },
      ],
      null,
      () => {},
    );
    expect(acls).toEqual([
      { acltype: 'publishClientSend', topic: 'a/secret/#', allow: false, priority: 8 },
      { acltype: 'subscribePattern', topic: 'a/secret/#', allow: false, priority: 7 },
      { acltype: 'subscribePattern', topic: '$share/+/a/secret/#', allow: false, priority: 6 },
      { acltype: 'publishClientReceive', topic: 'a/secret/#', allow: false, priority: 5 },
      { acltype: 'publishClientSend', topic: 'a/+/up', allow: true, priority: 4 },
      { acltype: 'subscribePattern', topic: 'cmd/#', allow: true, priority: 3 },
      { acltype: 'subscribePattern', topic: '$share/+/cmd/#', allow: true, priority: 2 },
      { acltype: 'publishClientReceive', topic: 'cmd/#', allow: true, priority: 1 },
    ]);
  });

  it('keeps only the first ACL per type and topic (later ones could never decide)', () => {
    const acls = aclsForRules(
      [
        { rule: { permission: 'allow', action: 'publish', topic: 'k' }, origin },
        { rule: { permission: 'deny', action: 'publish', topic: 'k' }, origin },
      ],
      null,
      () => {},
    );
    expect(acls).toEqual([{ acltype: 'publishClientSend', topic: 'k', allow: true, priority: 1 }]);
  });

  it('fails closed on QoS and retain conditions: conditional allows are left out, conditional denies always apply', () => {
    const notes: string[] = [];
    const acls = aclsForRules(
      [
        { rule: { permission: 'allow', action: 'publish', topic: 'q', qos: [0, 1] }, origin },
        { rule: { permission: 'allow', action: 'publish', topic: 'all-qos', qos: [0, 1, 2] }, origin },
        { rule: { permission: 'deny', action: 'publish', topic: 'r', retain: true }, origin },
        { rule: { permission: 'allow', action: 'subscribe', topic: 'f/#', retain: false }, origin },
        { rule: { permission: 'allow', action: 'all', topic: 'never', qos: [] }, origin },
      ],
      null,
      (note) => notes.push(note),
    );
    expect(acls.map((acl) => `${acl.acltype} ${acl.topic} ${acl.allow}`)).toEqual([
      'publishClientSend all-qos true',
      'publishClientSend r false',
      'subscribePattern f/# true',
      'subscribePattern $share/+/f/# true',
    ]);
    expect(notes).toHaveLength(3);
    expect(notes[0]).toMatch(
      /role r rule 0 \(allow publish q qos=0,1\): dynsec cannot check QoS or retain; allow left out/,
    );
  });

  it('expands placeholders per user; an unknown client id drops allows and widens denies to +', () => {
    const notes: string[] = [];
    const rules = [
      {
        rule: { permission: 'deny' as const, action: 'publish' as const, topic: 'dev/${clientid}/locked' },
        origin,
      },
      {
        rule: { permission: 'allow' as const, action: 'publish' as const, topic: 'dev/${clientid}/#' },
        origin,
      },
      {
        rule: { permission: 'allow' as const, action: 'publish' as const, topic: 'u-${username}/x' },
        origin,
      },
    ];
    expect(aclsForRules(rules, { username: 'dev-1', clientid: null }, (note) => notes.push(note))).toEqual([
      { acltype: 'publishClientSend', topic: 'dev/+/locked', allow: false, priority: 2 },
      { acltype: 'publishClientSend', topic: 'u-dev-1/x', allow: true, priority: 1 },
    ]);
    expect(notes).toHaveLength(2);
    expect(
      aclsForRules(rules, { username: 'dev-1', clientid: 'dev-1' }, () => {}).map((acl) => acl.topic),
    ).toEqual(['dev/dev-1/locked', 'dev/dev-1/#', 'u-dev-1/x']);
  });
});

describe('users and roles as dynsec clients and roles', () => {
  const roles: DirectoryRole[] = [
    {
      name: 'plain',
      description: 'no placeholders',
      rules: [{ permission: 'allow', action: 'publish', topic: 'p/#' }],
    },
    {
      name: 'mine',
      description: '',
      rules: [{ permission: 'allow', action: 'subscribe', topic: 'u/${username}/#' }],
    },
  ];

  it('a user with placeholder-free roles holds the shared roles in order', () => {
    const desired = desiredUser(user('dev-1', ['plain']), indexRoles(roles), options, () => {});
    expect(desired?.userRole).toBeNull();
    expect(desired?.client).toEqual({
      username: 'dev-1',
      clientid: null,
      textname: 'dev-1',
      textdescription: '',
      disabled: false,
      roles: [{ rolename: 'warden-role-plain', priority: 1 }],
      managed: true,
    });
    expect(sharedRole(roles[1] as DirectoryRole, () => {})).toBeNull();
  });

  it('a user holding a placeholder role gets one per-user role with all its rules, in order', () => {
    const desired = desiredUser(user('dev-2', ['mine', 'plain']), indexRoles(roles), options, () => {});
    expect(desired?.client.roles).toEqual([{ rolename: 'warden-user-dev-2', priority: 1 }]);
    expect(desired?.client.disabled).toBe(false);
    expect(desired?.userRole?.acls.map((acl) => `${acl.acltype} ${acl.topic}`)).toEqual([
      'subscribePattern u/dev-2/#',
      'subscribePattern $share/+/u/dev-2/#',
      'publishClientReceive u/dev-2/#',
      'publishClientSend p/#',
    ]);
  });

  it('an inactive user is a disabled client without roles (a certificate login skips the disabled flag)', () => {
    for (const held of [['plain'], ['mine', 'plain']]) {
      const desired = desiredUser(
        user('dev-4', held, { active: false }),
        indexRoles(roles),
        options,
        () => {},
      );
      expect(desired?.client).toMatchObject({ disabled: true, roles: [] });
      expect(desired?.userRole).toBeNull();
    }
  });

  it('binds the client id to the username when asked', () => {
    const desired = desiredUser(
      user('dev-3', []),
      indexRoles(roles),
      { ...options, clientIdBinding: 'username' },
      () => {},
    );
    expect(desired?.client.clientid).toBe('dev-3');
  });

  it('never mirrors a Warden user named like the dynsec admin', () => {
    const state = desiredState([user('dynsec-admin', ['plain']), user('dev-1', ['plain'])], roles, options);
    expect([...state.clients.keys()]).toEqual(['dev-1']);
    expect(state.warnings).toContain("user dynsec-admin has the dynsec admin's name and is not mirrored");
  });
});

describe('the plan: only what differs', () => {
  const roles: DirectoryRole[] = [
    { name: 'plain', description: '', rules: [{ permission: 'allow', action: 'publish', topic: 'p/#' }] },
  ];

  it('nothing to do when the broker matches', () => {
    const desired = desiredState([user('dev-1', ['plain'])], roles, options);
    const snapshot = {
      defaultAcl: {
        publishClientSend: false,
        publishClientReceive: false,
        subscribe: false,
        unsubscribe: true,
      },
      groupExists: true,
      roles: desired.roles,
      clients: desired.clients,
    };
    expect(planFull(snapshot, desired)).toEqual([]);
  });

  it('an empty broker: default access, group, roles, then clients', () => {
    const desired = desiredState([user('dev-1', ['plain'], { active: false })], roles, options);
    const changes = planFull(
      {
        defaultAcl: {
          publishClientSend: false,
          publishClientReceive: true,
          subscribe: false,
          unsubscribe: true,
        },
        groupExists: false,
        roles: new Map(),
        clients: new Map(),
      },
      desired,
    );
    expect(changes.map((change) => `${change.action} ${change.target} ${change.name}`)).toEqual([
      'update default_acl defaultACLAccess',
      'create group warden',
      'create role warden-role-plain',
      'create client dev-1',
      'disable client dev-1',
    ]);
    expect(changes[0]?.detail).toBe('publishClientReceive: true → false');
  });

  it('updates only the fields that differ, takes over a same-named client, leaves foreign clients alone', () => {
    const current = {
      username: 'dev-1',
      clientid: 'old',
      textname: 'dev-1',
      textdescription: 'old text',
      disabled: false,
      roles: [{ rolename: 'warden-role-plain', priority: 1 }],
      managed: false,
    };
    const wanted = { ...current, clientid: null, textdescription: '', managed: true };
    expect(planClient(current, wanted).flatMap((change) => change.requests)).toEqual([
      { command: 'modifyClient', username: 'dev-1', textdescription: '' },
      { command: 'setClientId', username: 'dev-1' },
      { command: 'addGroupClient', groupname: 'warden', username: 'dev-1' },
    ]);
    expect(planClient(current, undefined)).toEqual([]);
    expect(planClient({ ...current, managed: true }, undefined)[0]?.requests).toEqual([
      { command: 'deleteClient', username: 'dev-1' },
    ]);
  });

  it("replaces a role's ACLs when any differ; deletes only managed roles", () => {
    const role = sharedRole(roles[0] as DirectoryRole, () => {});
    if (!role) throw new Error('expected a shared role');
    expect(planRole(role, role)).toEqual([]);
    const drifted = { ...role, acls: role.acls.map((acl) => ({ ...acl, priority: acl.priority + 1 })) };
    expect(planRole(drifted, role)[0]?.requests).toEqual([
      {
        command: 'modifyRole',
        rolename: role.rolename,
        textname: role.textname,
        textdescription: '',
        acls: role.acls,
      },
    ]);
    expect(planRole({ ...role, rolename: 'admin' }, undefined)).toEqual([]);
  });
});
