import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { DutyHoldersTable } from './leadership.table.js';

/** Records `instance` as the holder of `duty` from `at` (a new holder replaces the previous one). */
export async function recordHolder(db: Kysely<Database>, row: DutyHoldersTable): Promise<void> {
  await db
    .insertInto('duty_holders')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('duty')
        .doUpdateSet({ instance: row.instance, since: row.since, heartbeat_at: row.heartbeat_at }),
    )
    .execute();
}

/** Refreshes the holder's heartbeat, if it still is the holder. */
export async function heartbeat(
  db: Kysely<Database>,
  duty: string,
  instance: string,
  at: number,
): Promise<void> {
  await db
    .updateTable('duty_holders')
    .set({ heartbeat_at: at })
    .where('duty', '=', duty)
    .where('instance', '=', instance)
    .execute();
}

export function findHolder(db: Kysely<Database>, duty: string): Promise<DutyHoldersTable | undefined> {
  return db.selectFrom('duty_holders').selectAll().where('duty', '=', duty).executeTakeFirst();
}
