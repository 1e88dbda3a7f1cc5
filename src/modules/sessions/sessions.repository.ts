import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { SessionRow, SessionsTable } from './sessions.table.js';

export async function insertSession(db: Kysely<Database>, row: SessionsTable): Promise<void> {
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

export async function touchSession(db: Kysely<Database>, id: string, at: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
}

export async function setSessionStage(db: Kysely<Database>, id: string, stage: string): Promise<void> {
  await db.updateTable('sessions').set({ stage }).where('id', '=', id).execute();
}

export interface SessionWithUser extends SessionRow {
  username: string;
  role: string;
}

export function listSessions(
  db: Kysely<Database>,
  filter: { userId?: string; username?: string },
): Promise<SessionWithUser[]> {
  let query = db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('sessions')
    .select(['users.username', 'users.role']);
  if (filter.userId) query = query.where('sessions.user_id', '=', filter.userId);
  if (filter.username) query = query.where('users.username_lower', '=', filter.username.toLowerCase());
  return query.orderBy('sessions.created_at', 'desc').execute();
}

/** Removes sessions past their absolute lifetime (idle expiry is judged per user at lookup). */
export async function deleteExpiredSessions(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
