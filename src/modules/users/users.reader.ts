import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { userError } from './users.errors.js';
import {
  countSsoUsers,
  countUserManagersSigningInWith,
  countUsersByRoleAndStatus,
  findRootUser,
  findUserById,
  findUserByUsername,
} from './users.repository.js';
import type { UserRow } from './users.table.js';

/**
 * Read-only access to user rows for the modules that decide about users (sessions, MFA, login, MQTT, hooks). It
 * depends on the database alone, so it is built before every service that reads users — and before the users
 * service, which depends on some of them — keeping the wiring acyclic. Rows never leave the server.
 */
export interface UserReader {
  /** By (case-insensitive) username; `db` may be the caller's transaction. */
  findRow(username: string, db?: Kysely<Database>): Promise<UserRow | undefined>;
  findRowById(id: string, db?: Kysely<Database>): Promise<UserRow | undefined>;
  /** As `findRow`, but an unknown name is 404 `user.not_found`. */
  mustFindRow(username: string, db?: Kysely<Database>): Promise<UserRow>;
  /** The root user, or undefined before the first start created it. */
  findRoot(db?: Kysely<Database>): Promise<UserRow | undefined>;
  /** How many users each role has, active and inactive (the metrics' `warden_users`). */
  countByRoleAndStatus(): Promise<Array<{ role: string; active: boolean; n: number }>>;
  /** How many users sign in with the SSO provider `provider` (authentication method `sso`). */
  countSsoUsers(provider: string, db?: Kysely<Database>): Promise<number>;
  /**
   * Active admins holding `user_management` who can sign in when exactly `ssoProviders` are enabled: with a
   * local password, or through one of those providers (the last-admin rule, docs/permissions.md).
   */
  countUserManagersSigningInWith(ssoProviders: readonly string[], db?: Kysely<Database>): Promise<number>;
}

export function createUserReader(deps: { db: Kysely<Database> }): UserReader {
  return {
    findRow: (username, db = deps.db) => findUserByUsername(db, username),
    findRowById: (id, db = deps.db) => findUserById(db, id),
    findRoot: (db = deps.db) => findRootUser(db),
    countByRoleAndStatus: () => countUsersByRoleAndStatus(deps.db),
    countSsoUsers: (provider, db = deps.db) => countSsoUsers(db, provider),
    countUserManagersSigningInWith: (providers, db = deps.db) =>
      countUserManagersSigningInWith(db, providers),
    async mustFindRow(username, db = deps.db) {
      const row = await findUserByUsername(db, username);
      if (!row) throw userError('user.not_found', `No user named "${username}"`);
      return row;
    },
  };
}
