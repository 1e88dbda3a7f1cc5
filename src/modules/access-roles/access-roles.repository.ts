import type { Kysely } from 'kysely';
import type { Engine } from '../../db/database.js';
import type { Database } from '../../db/schema.js';
import type { AccessRoleRow, NewAccessRoleRow } from './access-roles.table.js';

/** Plain data-access functions for access roles and their assignments; `db` may be a transaction. */

/**
 * Finds a role by name (case-insensitively). With `lock` on PostgreSQL the row stays locked until the
 * transaction ends, so a concurrent delete or assignment waits instead of racing the in-use check (SQLite
 * transactions are serialized already).
 */
export function findRoleByName(
  db: Kysely<Database>,
  name: string,
  lock: { engine: Engine; mode: 'update' | 'share' } | null = null,
): Promise<AccessRoleRow | undefined> {
  const query = db.selectFrom('access_roles').selectAll().where('name_lower', '=', name.toLowerCase());
  if (lock?.engine !== 'postgres') return query.executeTakeFirst();
  return (lock.mode === 'update' ? query.forUpdate() : query.forShare()).executeTakeFirst();
}

export function findRolesByNames(
  db: Kysely<Database>,
  names: readonly string[],
  lock: { engine: Engine; mode: 'share' } | null = null,
): Promise<AccessRoleRow[]> {
  if (names.length === 0) return Promise.resolve([]);
  const query = db
    .selectFrom('access_roles')
    .selectAll()
    .where(
      'name_lower',
      'in',
      names.map((name) => name.toLowerCase()),
    );
  return (lock?.engine === 'postgres' ? query.forShare() : query).execute();
}

export function findRolesByIds(db: Kysely<Database>, ids: readonly string[]): Promise<AccessRoleRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('access_roles')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

export async function listRoles(
  db: Kysely<Database>,
  page: { limit: number; offset: number },
): Promise<{ rows: AccessRoleRow[]; total: number }> {
  const [rows, count] = await Promise.all([
    db
      .selectFrom('access_roles')
      .selectAll()
      .orderBy('name_lower')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    db
      .selectFrom('access_roles')
      .select((eb) => eb.fn.countAll<number>().as('total'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.total) };
}

export async function insertRole(db: Kysely<Database>, row: NewAccessRoleRow): Promise<void> {
  await db.insertInto('access_roles').values(row).execute();
}

/** Applies a change and bumps `version` (compiled-rule caches key on it). */
export async function updateRole(
  db: Kysely<Database>,
  id: string,
  patch: { description: string; rules: string; updated_at: number },
): Promise<void> {
  await db
    .updateTable('access_roles')
    .set((eb) => ({ ...patch, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

export async function deleteRoleRow(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('access_roles').where('id', '=', id).execute();
}

/** How many users hold each of the roles (roles nobody holds are absent). */
export async function holderCounts(
  db: Kysely<Database>,
  roleIds: readonly string[],
): Promise<Map<string, number>> {
  if (roleIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('user_access_roles')
    .select(['role_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('role_id', 'in', [...roleIds])
    .groupBy('role_id')
    .execute();
  return new Map(rows.map((row) => [row.role_id, Number(row.n)]));
}

/** Removes a role from every holder; returns the holders' user ids. */
export async function deleteAssignmentsOfRole(db: Kysely<Database>, roleId: string): Promise<string[]> {
  const holders = await db
    .selectFrom('user_access_roles')
    .select('user_id')
    .where('role_id', '=', roleId)
    .execute();
  await db.deleteFrom('user_access_roles').where('role_id', '=', roleId).execute();
  return holders.map((row) => row.user_id);
}

/** Role names per user, each list in evaluation order. */
export async function assignedNamesByUser(
  db: Kysely<Database>,
  userIds: readonly string[],
): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  if (userIds.length === 0) return result;
  const rows = await db
    .selectFrom('user_access_roles')
    .innerJoin('access_roles', 'access_roles.id', 'user_access_roles.role_id')
    .select(['user_access_roles.user_id as userId', 'access_roles.name as name'])
    .where('user_access_roles.user_id', 'in', [...userIds])
    .orderBy('user_access_roles.user_id')
    .orderBy('user_access_roles.position')
    .execute();
  for (const row of rows) {
    const names = result.get(row.userId) ?? [];
    names.push(row.name);
    result.set(row.userId, names);
  }
  return result;
}

/** A user's role ids in evaluation order. */
export async function assignedRoleIds(db: Kysely<Database>, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('user_access_roles')
    .select('role_id')
    .where('user_id', '=', userId)
    .orderBy('position')
    .execute();
  return rows.map((row) => row.role_id);
}

/** Replaces a user's role list (order = position). */
export async function replaceAssignments(
  db: Kysely<Database>,
  userId: string,
  roleIds: readonly string[],
): Promise<void> {
  await db.deleteFrom('user_access_roles').where('user_id', '=', userId).execute();
  if (roleIds.length === 0) return;
  await db
    .insertInto('user_access_roles')
    .values(roleIds.map((roleId, position) => ({ user_id: userId, role_id: roleId, position })))
    .execute();
}
