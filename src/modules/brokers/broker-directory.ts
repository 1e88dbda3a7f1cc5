import { AppError } from '../../core/errors/app-error.js';
import type { DirectoryRole, DirectoryUser, WardenDirectory } from '../../integrations/broker-integration.js';
import { isHttpRule } from '../access-engine/index.js';
import type { AccessRolesService } from '../access-roles/access-roles.service.js';
import type { PublicUser } from '../users/users.schemas.js';
import type { UsersService } from '../users/users.service.js';

const PAGE_SIZE = 250;

function toDirectoryUser(user: PublicUser): DirectoryUser {
  return {
    username: user.username,
    active: user.active,
    description: user.description,
    kind: user.kind,
    localPassword: user.authMethod === 'local',
    accessRoles: user.accessRoles,
  };
}

/** Warden's users and access roles for broker adapters, read through their services (paged, in name order). */
export function createDirectory(deps: {
  users: Pick<UsersService, 'list' | 'get'>;
  accessRoles: Pick<AccessRolesService, 'list'>;
}): WardenDirectory {
  return {
    async *users() {
      for (let page = 1; ; page += 1) {
        const result = await deps.users.list({ includeInactive: true, page, pageSize: PAGE_SIZE });
        for (const user of result.items) yield toDirectoryUser(user);
        if (result.items.length < PAGE_SIZE) return;
      }
    },

    async user(username) {
      try {
        return toDirectoryUser(await deps.users.get(username));
      } catch (error) {
        if (error instanceof AppError && error.code === 'user.not_found') return null;
        throw error;
      }
    },

    async roles() {
      const roles: DirectoryRole[] = [];
      for (let page = 1; ; page += 1) {
        const result = await deps.accessRoles.list({ page, pageSize: PAGE_SIZE });
        roles.push(
          ...result.items.map((role) => ({
            name: role.name,
            description: role.description,
            // Brokers enforce MQTT rules only: HTTP rules are for forward-auth (docs/forward-auth.md).
            rules: role.rules.filter((rule) => !isHttpRule(rule)),
          })),
        );
        if (result.items.length < PAGE_SIZE) return roles;
      }
    },
  };
}
