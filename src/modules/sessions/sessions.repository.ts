import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { NewSessionRow, SessionRow } from './sessions.table.js';

export async function insertSession(db: Kysely<Database>, row: NewSessionRow): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

export function findSession(db: Kysely<Database>, id: string): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function deleteSession(db: Kysely<Database>, id: string): Promise<number> {
  const result = await db.deleteFrom('sessions').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Ends every session of a user, optionally sparing one (the caller's own, on a password change). */
export async function deleteSessionsOfUser(
  db: Kysely<Database>,
  userId: string,
  exceptId?: string,
): Promise<number> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (exceptId) query = query.where('id', '!=', exceptId);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Ends every session started by signing in with the SSO provider `provider`; answers what ended, by user. */
export async function deleteSessionsFromProvider(
  db: Kysely<Database>,
  provider: string,
): Promise<Array<{ id: string; user_id: string }>> {
  return db
    .deleteFrom('sessions')
    .where('sso_provider', '=', provider)
    .returning(['id', 'user_id'])
    .execute();
}

export async function touchSession(db: Kysely<Database>, id: string, at: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
}

export interface SessionWithUser extends SessionRow {
  username: string;
  role: string;
  /** `last_seen_at` + the user's idle timeout: when the session ends unless it is used again. */
  idle_expires_at: number;
}

export interface LiveSessionFilter {
  readonly now: number;
  /** The system idle timeout, for users whose own `session_timeout_minutes` is 0. */
  readonly defaultTimeoutMs: number;
  readonly userId?: string;
  readonly username?: string;
}

/**
 * When a session ends if idle: last seen + its user's timeout, or the system default for a user without one.
 * In 64-bit arithmetic: a long timeout in milliseconds overflows PostgreSQL's 32-bit `integer`.
 */
function idleExpiresAt(defaultTimeoutMs: number) {
  return sql<number>`sessions.last_seen_at + case when users.session_timeout_minutes > 0 then cast(users.session_timeout_minutes as bigint) * 60000 else cast(${defaultTimeoutMs} as bigint) end`;
}

/**
 * Sessions still alive at `now`: within their absolute lifetime and seen within their user's idle timeout
 * (the same rule `resolve` applies to a cookie, in SQL so lists and counts never include the dead).
 */
function liveSessions(db: Kysely<Database>, filter: LiveSessionFilter) {
  let query = db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .where('sessions.expires_at', '>', filter.now)
    .where(idleExpiresAt(filter.defaultTimeoutMs), '>', filter.now);
  if (filter.userId) query = query.where('sessions.user_id', '=', filter.userId);
  if (filter.username) query = query.where('users.username_lower', '=', filter.username.toLowerCase());
  return query;
}

/** One page of live sessions, newest first, with the total. */
export async function listLiveSessions(
  db: Kysely<Database>,
  filter: LiveSessionFilter,
  page: { limit: number; offset: number },
): Promise<{ rows: SessionWithUser[]; total: number }> {
  const query = liveSessions(db, filter);
  const [rows, count] = await Promise.all([
    query
      .selectAll('sessions')
      .select(['users.username', 'users.role', idleExpiresAt(filter.defaultTimeoutMs).as('idle_expires_at')])
      .orderBy('sessions.created_at', 'desc')
      .orderBy('sessions.id')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    query.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.total) };
}

/** Live complete (`active`) sessions of users who are not admins: what the concurrent-session cap counts. */
export async function countLiveNonAdminSessions(
  db: Kysely<Database>,
  filter: LiveSessionFilter,
): Promise<number> {
  const { n } = await liveSessions(db, filter)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('sessions.stage', '=', 'active')
    .where('users.role', '!=', 'admin')
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** Live complete sessions of every user (the metrics' `warden_sessions_active`). */
export async function countLiveSessions(db: Kysely<Database>, filter: LiveSessionFilter): Promise<number> {
  const { n } = await liveSessions(db, filter)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('sessions.stage', '=', 'active')
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** The ids of a user's sessions (to end them and say which in the audit log). */
export async function sessionIdsOfUser(
  db: Kysely<Database>,
  userId: string,
  exceptId?: string,
): Promise<string[]> {
  let query = db.selectFrom('sessions').select('id').where('user_id', '=', userId);
  if (exceptId) query = query.where('id', '!=', exceptId);
  const rows = await query.orderBy('created_at').execute();
  return rows.map((row) => row.id);
}

/** Removes sessions past their absolute lifetime (idle expiry is judged per user at lookup). */
export async function deleteExpiredSessions(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
