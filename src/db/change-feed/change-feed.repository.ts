import { type Kysely, sql } from 'kysely';
import type { Engine } from '../database.js';
import { lockKey } from '../dialects/locks.js';
import type { Database } from '../schema.js';
import type { ChangeFeedRow } from './change-feed.table.js';

/**
 * The channel a PostgreSQL append notifies, per schema: several Warden databases (or test schemas) in one
 * PostgreSQL never wake each other. The same expression names it when listening.
 */
export const NOTIFY_CHANNEL_SQL = sql<string>`'warden_changes_' || current_schema()`;

/**
 * Appends a change inside the caller's transaction. On PostgreSQL the append first takes the feed's
 * transaction lock, held until commit, so that ids become visible in the order they were given: a follower
 * reading "everything after id N" can never miss a row that commits later with a smaller id. Lock, insert and
 * notification are one statement (one round trip). SQLite already runs one writing transaction at a time. The
 * notification is delivered by PostgreSQL at commit, not before.
 */
export async function appendChange(
  trx: Kysely<Database>,
  engine: Engine,
  change: { kind: string; key: string; payload: string; at: number },
): Promise<void> {
  if (engine === 'postgres') {
    await sql`
      with locked as (select pg_advisory_xact_lock(${lockKey('change-feed')})),
        appended as (
          insert into change_feed (kind, key, payload, at)
          select ${change.kind}, ${change.key}, ${change.payload}, ${change.at} from locked
          returning id)
      select pg_notify(${NOTIFY_CHANNEL_SQL}, id::text) from appended`.execute(trx);
    return;
  }
  await trx.insertInto('change_feed').values(change).execute();
}

/** Changes after `afterId`, oldest first, at most `limit`. */
export function changesAfter(db: Kysely<Database>, afterId: number, limit: number): Promise<ChangeFeedRow[]> {
  return db
    .selectFrom('change_feed')
    .selectAll()
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** The oldest id kept (0 when the feed is empty). */
export async function oldestChangeId(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('change_feed')
    .select((eb) => eb.fn.min('id').as('oldest'))
    .executeTakeFirst();
  return Number(row?.oldest ?? 0);
}

/** The newest id (0 when empty): a follower's cheap "anything new?" question. */
export async function newestChangeId(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('change_feed')
    .select((eb) => eb.fn.max('id').as('newest'))
    .executeTakeFirst();
  return Number(row?.newest ?? 0);
}

/**
 * Deletes changes older than `before` (epoch ms), always keeping the newest row: a follower learns from the
 * oldest id left that it fell behind what was pruned (see ChangeFollower). Returns how many went.
 */
export async function pruneChanges(db: Kysely<Database>, before: number): Promise<number> {
  const newest = await newestChangeId(db);
  const result = await db
    .deleteFrom('change_feed')
    .where('at', '<', before)
    .where('id', '<', newest)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
