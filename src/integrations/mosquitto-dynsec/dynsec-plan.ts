/**
 * The diff between what the broker holds and what Warden wants, as dynsec commands. Pure: the reconcile reads
 * a snapshot, plans, and sends only the planned commands (nothing for what already matches).
 */

import type { SyncChange } from '../broker-integration.js';
import type { DynsecCommand } from './dynsec-client.js';
import {
  type DesiredState,
  type DynsecAcl,
  type DynsecClientEntry,
  type DynsecRole,
  type DynsecRoleLink,
  isManagedRole,
  MANAGED_GROUP,
  WARDEN_DEFAULT_ACL,
} from './dynsec-model.js';

/** What the broker holds (as far as Warden cares). */
export interface BrokerSnapshot {
  readonly defaultAcl: Readonly<Record<string, boolean>>;
  readonly groupExists: boolean;
  /** Roles Warden manages (`warden-role-…`, `warden-user-…`) by name. */
  readonly roles: ReadonlyMap<string, DynsecRole>;
  /** Every client by username (managed or not: a Warden user's name may already exist). */
  readonly clients: ReadonlyMap<string, DynsecClientEntry>;
}

function change(
  action: SyncChange['action'],
  target: SyncChange['target'],
  name: string,
  detail: string,
  requests: DynsecCommand[],
): SyncChange {
  return { action, target, name, detail, requests };
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** A role from `getRole` / `listRoles` (verbose) data. */
export function parseRole(raw: unknown): DynsecRole {
  const role = (raw ?? {}) as Record<string, unknown>;
  const acls = Array.isArray(role.acls) ? (role.acls as Array<Record<string, unknown>>) : [];
  return {
    rolename: str(role.rolename),
    textname: str(role.textname),
    textdescription: str(role.textdescription),
    acls: acls.map((acl) => ({
      acltype: str(acl.acltype),
      topic: str(acl.topic),
      priority: typeof acl.priority === 'number' ? acl.priority : 0,
      allow: acl.allow === true,
    })),
  };
}

/** A client from `getClient` / `listClients` (verbose) data. */
export function parseClient(raw: unknown): DynsecClientEntry {
  const client = (raw ?? {}) as Record<string, unknown>;
  const roles = Array.isArray(client.roles) ? (client.roles as Array<Record<string, unknown>>) : [];
  const groups = Array.isArray(client.groups) ? (client.groups as Array<Record<string, unknown>>) : [];
  return {
    username: str(client.username),
    clientid: typeof client.clientid === 'string' && client.clientid !== '' ? client.clientid : null,
    textname: str(client.textname),
    textdescription: str(client.textdescription),
    disabled: client.disabled === true,
    roles: roles.map((role) => ({
      rolename: str(role.rolename),
      priority: typeof role.priority === 'number' ? role.priority : -1,
    })),
    managed: groups.some((group) => group.groupname === MANAGED_GROUP),
  };
}

/** Default access from `getDefaultACLAccess` data. */
export function parseDefaultAcl(raw: unknown): Record<string, boolean> {
  const acls = (raw as { acls?: unknown } | null | undefined)?.acls;
  if (!Array.isArray(acls)) return {};
  return Object.fromEntries(
    (acls as Array<Record<string, unknown>>).map((acl) => [str(acl.acltype), acl.allow === true]),
  );
}

export function planDefaultAcl(current: Readonly<Record<string, boolean>>): SyncChange[] {
  const differing = Object.entries(WARDEN_DEFAULT_ACL).filter(([type, allow]) => current[type] !== allow);
  if (differing.length === 0) return [];
  return [
    change(
      'update',
      'default_acl',
      'defaultACLAccess',
      differing.map(([type, allow]) => `${type}: ${current[type] ?? '?'} → ${allow}`).join(', '),
      [
        {
          command: 'setDefaultACLAccess',
          acls: Object.entries(WARDEN_DEFAULT_ACL).map(([acltype, allow]) => ({ acltype, allow })),
        },
      ],
    ),
  ];
}

export function planGroup(exists: boolean): SyncChange[] {
  if (exists) return [];
  return [
    change('create', 'group', MANAGED_GROUP, 'marks the clients Warden manages', [
      { command: 'createGroup', groupname: MANAGED_GROUP, textname: 'Clients managed by Warden' },
    ]),
  ];
}

const aclKey = (acl: DynsecAcl): string =>
  `${acl.acltype} ${acl.topic} p${acl.priority} ${acl.allow ? 'allow' : 'deny'}`;

function aclSet(acls: readonly DynsecAcl[]): Set<string> {
  return new Set(acls.map(aclKey));
}

/** The commands that turn `current` into `desired` for one managed role (either may be missing). */
export function planRole(current: DynsecRole | undefined, desired: DynsecRole | undefined): SyncChange[] {
  if (desired === undefined) {
    if (current === undefined || !isManagedRole(current.rolename)) return [];
    return [
      change('delete', 'role', current.rolename, 'no longer needed', [
        { command: 'deleteRole', rolename: current.rolename },
      ]),
    ];
  }
  if (current === undefined) {
    return [
      change('create', 'role', desired.rolename, `${desired.acls.length} ACLs`, [
        {
          command: 'createRole',
          rolename: desired.rolename,
          textname: desired.textname,
          textdescription: desired.textdescription,
          acls: desired.acls,
        },
      ]),
    ];
  }
  const have = aclSet(current.acls);
  const want = aclSet(desired.acls);
  const added = [...want].filter((key) => !have.has(key));
  const removed = [...have].filter((key) => !want.has(key));
  const textChanged =
    current.textname !== desired.textname || current.textdescription !== desired.textdescription;
  if (added.length === 0 && removed.length === 0 && !textChanged) return [];
  const parts = [
    ...(added.length > 0 ? [`+ ${added.join('; ')}`] : []),
    ...(removed.length > 0 ? [`- ${removed.join('; ')}`] : []),
    ...(textChanged ? ['text'] : []),
  ];
  return [
    change('update', 'role', desired.rolename, parts.join(' | '), [
      {
        command: 'modifyRole',
        rolename: desired.rolename,
        textname: desired.textname,
        textdescription: desired.textdescription,
        acls: desired.acls,
      },
    ]),
  ];
}

const linksText = (links: readonly DynsecRoleLink[]): string =>
  `[${links.map((link) => `${link.rolename}@${link.priority}`).join(', ')}]`;

function sameLinks(a: readonly DynsecRoleLink[], b: readonly DynsecRoleLink[]): boolean {
  const sorted = (links: readonly DynsecRoleLink[]): string =>
    linksText([...links].sort((x, y) => y.priority - x.priority || x.rolename.localeCompare(y.rolename)));
  return sorted(a) === sorted(b);
}

function createClient(desired: DynsecClientEntry): SyncChange[] {
  const changes = [
    change('create', 'client', desired.username, `roles ${linksText(desired.roles)}`, [
      {
        command: 'createClient',
        username: desired.username,
        ...(desired.clientid === null ? {} : { clientid: desired.clientid }),
        textname: desired.textname,
        textdescription: desired.textdescription,
        roles: desired.roles,
        groups: [{ groupname: MANAGED_GROUP }],
      },
    ]),
  ];
  if (desired.disabled) {
    changes.push(
      change('disable', 'client', desired.username, 'user is deactivated or signs in with SSO', [
        { command: 'disableClient', username: desired.username },
      ]),
    );
  }
  return changes;
}

/**
 * The commands that turn `current` into `desired` for one username. A client that is not in the managed
 * group and that Warden does not want is someone else's and left alone; one Warden wants is taken over.
 */
export function planClient(
  current: DynsecClientEntry | undefined,
  desired: DynsecClientEntry | undefined,
): SyncChange[] {
  if (desired === undefined) {
    if (current === undefined || !current.managed) return [];
    return [
      change('delete', 'client', current.username, 'no such active or inactive Warden user', [
        { command: 'deleteClient', username: current.username },
      ]),
    ];
  }
  if (current === undefined) return createClient(desired);
  const changes: SyncChange[] = [];
  const modify: Record<string, unknown> = {};
  const details: string[] = [];
  if (current.textname !== desired.textname) {
    modify.textname = desired.textname;
    details.push('textname');
  }
  if (current.textdescription !== desired.textdescription) {
    modify.textdescription = desired.textdescription;
    details.push('textdescription');
  }
  if (!sameLinks(current.roles, desired.roles)) {
    modify.roles = desired.roles;
    details.push(`roles ${linksText(current.roles)} → ${linksText(desired.roles)}`);
  }
  const requests: DynsecCommand[] = [];
  if (details.length > 0) requests.push({ command: 'modifyClient', username: desired.username, ...modify });
  if (current.clientid !== desired.clientid) {
    requests.push({
      command: 'setClientId',
      username: desired.username,
      ...(desired.clientid === null ? {} : { clientid: desired.clientid }),
    });
    details.push(`clientid ${current.clientid ?? '(any)'} → ${desired.clientid ?? '(any)'}`);
  }
  if (!current.managed) {
    requests.push({ command: 'addGroupClient', groupname: MANAGED_GROUP, username: desired.username });
    details.push(`taken over (added to group ${MANAGED_GROUP})`);
  }
  if (requests.length > 0)
    changes.push(change('update', 'client', desired.username, details.join(', '), requests));
  if (current.disabled !== desired.disabled) {
    changes.push(
      desired.disabled
        ? change('disable', 'client', desired.username, 'user is deactivated or signs in with SSO', [
            { command: 'disableClient', username: desired.username },
          ])
        : change('enable', 'client', desired.username, 'user is active with a local password', [
            { command: 'enableClient', username: desired.username },
          ]),
    );
  }
  return changes;
}

/**
 * The full plan, in an order the plugin accepts: default access and the group, roles a client will
 * reference, clients, then roles nobody needs any more.
 */
export function planFull(snapshot: BrokerSnapshot, desired: DesiredState): SyncChange[] {
  const changes: SyncChange[] = [...planDefaultAcl(snapshot.defaultAcl), ...planGroup(snapshot.groupExists)];
  for (const [name, role] of desired.roles) changes.push(...planRole(snapshot.roles.get(name), role));
  for (const [username, client] of desired.clients) {
    changes.push(...planClient(snapshot.clients.get(username), client));
  }
  for (const [username, client] of snapshot.clients) {
    if (!desired.clients.has(username)) changes.push(...planClient(client, undefined));
  }
  for (const [name, role] of snapshot.roles) {
    if (!desired.roles.has(name)) changes.push(...planRole(role, undefined));
  }
  return changes;
}
