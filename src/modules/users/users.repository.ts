import { type Kysely, sql } from 'kysely';
import { assertFiniteColumns } from '../../core/validation.js';
import type { Engine } from '../../db/database.js';
import { userSubstringMatch } from '../../db/dialects/text-search.js';
import type { Database } from '../../db/schema.js';
import type { NewUserRow, UserRow, UserRowUpdate } from './users.table.js';

/** Plain data-access functions; `db` may be a transaction. No business rules here. */

export function findUserByUsername(db: Kysely<Database>, username: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('username_lower', '=', username.toLowerCase())
    .executeTakeFirst();
}

export function findUserById(db: Kysely<Database>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertUser(db: Kysely<Database>, row: NewUserRow): Promise<void> {
  assertFiniteColumns('users', row);
  await db.insertInto('users').values(row).execute();
}

/**
 * Applies a change and bumps `version` (caches of compiled permissions key on it), unless the change cannot
 * matter to a decision (`bumpVersion: false`, e.g. the last login time).
 */
export async function updateUser(
  db: Kysely<Database>,
  id: string,
  patch: UserRowUpdate,
  options: { bumpVersion: boolean } = { bumpVersion: true },
): Promise<void> {
  assertFiniteColumns('users', patch);
  await db
    .updateTable('users')
    .set(options.bumpVersion ? { ...patch, version: sql<number>`version + 1` } : patch)
    .where('id', '=', id)
    .execute();
}

export async function deleteUserRow(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).execute();
}

/**
 * Users who count towards "at least one active admin who can manage users" (`managesUsers` in
 * src/modules/permissions/permissions.policy.ts, the same rule in SQL), optionally without one of them.
 */
export async function countUserManagers(db: Kysely<Database>, excludingId?: string): Promise<number> {
  let query = db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('active', '=', 1)
    .where('kind', '=', 'person')
    .where('auth_method', '=', 'local')
    .where('password_hash', 'is not', null)
    // `scopes` is a JSON array of names; the quotes make the match exact.
    .where('scopes', 'like', '%"user_management"%');
  if (excludingId) query = query.where('id', '!=', excludingId);
  const { n } = await query.executeTakeFirstOrThrow();
  return Number(n);
}

/** How many users sign in with the SSO provider `provider` (authentication method `sso`). */
export async function countSsoUsers(db: Kysely<Database>, provider: string): Promise<number> {
  const { n } = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('auth_method', '=', 'sso')
    .where('sso_provider', '=', provider)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/**
 * Users who count towards "at least one active admin who can manage users" when exactly the providers
 * `ssoProviders` are enabled: the rule of {@link countUserManagers}, where an SSO user of one of those providers
 * can sign in as well as a local user with a password.
 */
export async function countUserManagersSigningInWith(
  db: Kysely<Database>,
  ssoProviders: readonly string[],
): Promise<number> {
  const { n } = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('active', '=', 1)
    .where('kind', '=', 'person')
    .where('scopes', 'like', '%"user_management"%')
    .where((eb) => {
      const local = eb.and([eb('auth_method', '=', 'local'), eb('password_hash', 'is not', null)]);
      return ssoProviders.length === 0
        ? local
        : eb.or([
            local,
            eb.and([eb('auth_method', '=', 'sso'), eb('sso_provider', 'in', [...ssoProviders])]),
          ]);
    })
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** The root user (the one protected user), if it was created. */
export function findRootUser(db: Kysely<Database>): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('protected', '=', 1).executeTakeFirst();
}

export interface UserListFilter {
  search?: string;
  role?: string;
  includeInactive: boolean;
  limit: number;
  offset: number;
  /** Start at this username instead of counting `offset` rows from the top (see PageMarks). */
  seek?: { from: string; skip: number } | null;
}

/**
 * One page of users in username order, and the total. Without a search the total comes from the trigger-kept
 * `user_counts` (no count over a million rows); with one, from the trigram-indexed match.
 */
export async function listUsers(
  db: Kysely<Database>,
  engine: Engine,
  filter: UserListFilter,
): Promise<{ rows: UserRow[]; total: number }> {
  let query = db.selectFrom('users');
  if (!filter.includeInactive) query = query.where('active', '=', 1);
  if (filter.role) query = query.where('role', '=', filter.role);
  if (filter.search) query = query.where(userSubstringMatch(engine, filter.search));
  const rows = (filter.seek ? query.where('username_lower', '>=', filter.seek.from) : query)
    .selectAll()
    .orderBy('username_lower')
    .limit(filter.limit)
    .offset(filter.seek ? filter.seek.skip : filter.offset)
    .execute();
  const total = filter.search
    ? query.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow()
    : countUsers(db, filter);
  const [page, count] = await Promise.all([rows, total]);
  return { rows: page, total: Number(typeof count === 'number' ? count : count.total) };
}

export async function readListGeneration(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('user_list_generation')
    .select('generation')
    .where('id', '=', 1)
    .executeTakeFirst();
  return Number(row?.generation ?? 0);
}

/** The username at every `every`-th position of the filtered list, in list order (one pass in the database). */
export async function userListMarks(
  db: Kysely<Database>,
  filter: { role?: string; includeInactive: boolean },
  every: number,
): Promise<string[]> {
  let inner = db
    .selectFrom('users')
    .select(['username_lower', sql<number>`row_number() over (order by username_lower)`.as('position')]);
  if (!filter.includeInactive) inner = inner.where('active', '=', 1);
  if (filter.role) inner = inner.where('role', '=', filter.role);
  const rows = await db
    .selectFrom(inner.as('ordered'))
    .select('username_lower')
    .where(sql<boolean>`(position - 1) % ${every} = 0`)
    .orderBy('position')
    .execute();
  return rows.map((r) => r.username_lower);
}

async function countUsers(
  db: Kysely<Database>,
  filter: { role?: string; includeInactive: boolean },
): Promise<number> {
  let query = db
    .selectFrom('user_counts')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('n'), eb.lit(0)).as('n'));
  if (!filter.includeInactive) query = query.where('active', '=', 1);
  if (filter.role) query = query.where('role', '=', filter.role);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

/** Users per role and status, from the trigger-kept `user_counts` (one row per pair; no scan of `users`). */
export async function countUsersByRoleAndStatus(
  db: Kysely<Database>,
): Promise<Array<{ role: string; active: boolean; n: number }>> {
  const rows = await db.selectFrom('user_counts').select(['role', 'active', 'n']).execute();
  return rows.map((row) => ({ role: row.role, active: Number(row.active) === 1, n: Number(row.n) }));
}

export async function insertPasswordHistory(
  db: Kysely<Database>,
  entry: { id: string; user_id: string; password_hash: string; created_at: number },
  keep: number,
): Promise<void> {
  await db.insertInto('password_history').values(entry).execute();
  // Only the newest `keep` hashes matter for the reuse rule; older ones are removed, not hoarded.
  const stale = await db
    .selectFrom('password_history')
    .select('id')
    .where('user_id', '=', entry.user_id)
    .orderBy('created_at', 'desc')
    .offset(keep)
    .limit(1000)
    .execute();
  if (stale.length > 0) {
    await db
      .deleteFrom('password_history')
      .where(
        'id',
        'in',
        stale.map((r) => r.id),
      )
      .execute();
  }
}

export async function recentPasswordHashes(
  db: Kysely<Database>,
  userId: string,
  count: number,
): Promise<string[]> {
  if (count <= 0) return [];
  const rows = await db
    .selectFrom('password_history')
    .select('password_hash')
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .limit(count)
    .execute();
  return rows.map((r) => r.password_hash);
}

/**
 * Moves a password whose origin was never recorded to another record of the same secret, in one conditional
 * UPDATE: only while the row still holds `current` with no origin, so a password changed meanwhile is kept. The
 * secret is the same, so nothing that caches decisions on the user needs to know (no version bump).
 */
export async function replaceUnmarkedPasswordHash(
  db: Kysely<Database>,
  id: string,
  current: string,
  next: string,
): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ password_hash: next, password_origin: 'generated' })
    .where('id', '=', id)
    .where('password_hash', '=', current)
    .where('password_origin', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
