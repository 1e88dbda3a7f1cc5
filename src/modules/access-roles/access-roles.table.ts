import type { Generated, Insertable, Selectable } from 'kysely';

/** Row of `access_roles` (migration 002). `rules` is a JSON array of AccessRule; times are epoch ms. */
export interface AccessRolesTable {
  id: string;
  name: string;
  name_lower: string;
  description: Generated<string>;
  rules: Generated<string>;
  /** Grows by one with every change; compiled-rule caches key on it. */
  version: Generated<number>;
  created_at: number;
  updated_at: number;
}

/** A user's ordered access roles: `position` 0 is evaluated first. */
export interface UserAccessRolesTable {
  user_id: string;
  role_id: string;
  position: number;
}

export type AccessRoleRow = Selectable<AccessRolesTable>;
export type NewAccessRoleRow = Insertable<AccessRolesTable>;
