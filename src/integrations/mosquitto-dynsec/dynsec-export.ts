import type { DirectoryRole, DirectoryUser } from '../broker-integration.js';
import { desiredState, MANAGED_GROUP, type MappingOptions, WARDEN_DEFAULT_ACL } from './dynsec-model.js';
import { type DynsecPasswordRecord, hashDynsecPassword } from './dynsec-password.js';

/** The role the exported admin holds: exactly what syncing needs, nothing on application topics. */
export const EXPORT_ADMIN_ROLE = 'warden-dynsec-admin';

export interface DynsecExport {
  /** The dynamic-security.json document (docs/broker-protocols.md#dynsec-configuration-file). */
  readonly document: Record<string, unknown>;
  /** Users exported without a password (Warden does not know their Mosquitto password yet). */
  readonly withoutPassword: readonly string[];
  readonly warnings: readonly string[];
}

export interface ExportInput {
  readonly users: readonly DirectoryUser[];
  readonly roles: readonly DirectoryRole[];
  readonly options: MappingOptions;
  /** The stored Mosquitto password record of a user whose record is current, else null. */
  readonly passwordOf: (username: string) => DynsecPasswordRecord | null;
  /** The dynsec admin's password, so Warden can sync the broker once it runs; null = no admin client. */
  readonly adminPassword: string | null;
}

/**
 * A dynamic-security.json for a broker that is not running yet (`warden mosquitto export-dynsec`): the same
 * clients, roles and default access a full reconcile would produce, with the PBKDF2-SHA512 password records
 * Warden keeps sealed. Users whose password Warden does not know are exported without password fields (they
 * cannot log in until their password is set again) and listed.
 */
export function exportDynsec(input: ExportInput): DynsecExport {
  const desired = desiredState(input.users, input.roles, input.options);
  const withoutPassword: string[] = [];
  const clients: Record<string, unknown>[] = [];
  const usersByName = new Map(input.users.map((user) => [user.username, user]));
  for (const client of desired.clients.values()) {
    const user = usersByName.get(client.username);
    const record = input.passwordOf(client.username);
    if (record === null && user?.active && user.localPassword) withoutPassword.push(client.username);
    clients.push({
      username: client.username,
      ...(client.clientid === null ? {} : { clientid: client.clientid }),
      textname: client.textname,
      textdescription: client.textdescription,
      disabled: client.disabled,
      ...(record ?? {}),
      roles: client.roles,
    });
  }
  const roles: Record<string, unknown>[] = [...desired.roles.values()].map((role) => ({
    rolename: role.rolename,
    textname: role.textname,
    textdescription: role.textdescription,
    acls: role.acls,
  }));
  if (input.adminPassword !== null) {
    clients.unshift({
      username: input.options.adminUsername,
      textname: 'Dynsec admin (Warden sync)',
      ...hashDynsecPassword(input.adminPassword),
      roles: [{ rolename: EXPORT_ADMIN_ROLE, priority: 1 }],
    });
    roles.unshift({
      rolename: EXPORT_ADMIN_ROLE,
      textname: 'Administers the dynamic-security plugin',
      acls: [
        { acltype: 'publishClientSend', topic: '$CONTROL/dynamic-security/#', priority: 3, allow: true },
        { acltype: 'publishClientReceive', topic: '$CONTROL/dynamic-security/#', priority: 2, allow: true },
        { acltype: 'subscribePattern', topic: '$CONTROL/dynamic-security/#', priority: 1, allow: true },
      ],
    });
  }
  return {
    document: {
      defaultACLAccess: { ...WARDEN_DEFAULT_ACL },
      clients,
      groups: [
        {
          groupname: MANAGED_GROUP,
          textname: 'Clients managed by Warden',
          roles: [],
          clients: [...desired.clients.keys()].map((username) => ({ username })),
        },
      ],
      roles,
    },
    withoutPassword,
    warnings: desired.warnings,
  };
}
