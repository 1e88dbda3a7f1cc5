import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { ApiKeyRow, ApiKeyRowUpdate, NewApiKeyRow } from './api-keys.table.js';

/** Plain data-access functions for API keys; `db` may be a transaction. */

/** A key with its owner's username (the declared read-join of docs/architecture.md#module-boundaries). */
export type ApiKeyWithOwner = ApiKeyRow & { readonly owner_username: string };

export function findApiKey(db: Kysely<Database>, id: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

function withOwner(db: Kysely<Database>) {
  return db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.owner_id')
    .selectAll('api_keys')
    .select('users.username as owner_username');
}

export function findApiKeyWithOwner(db: Kysely<Database>, id: string): Promise<ApiKeyWithOwner | undefined> {
  return withOwner(db).where('api_keys.id', '=', id).executeTakeFirst();
}

/** One page of keys, newest first, optionally of one owner (by username, case-insensitively). */
export async function listApiKeys(
  db: Kysely<Database>,
  filter: { ownerUsername?: string },
  page: { limit: number; offset: number },
): Promise<{ rows: ApiKeyWithOwner[]; total: number }> {
  const owner = filter.ownerUsername?.toLowerCase();
  let rows = withOwner(db);
  let count = db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.owner_id')
    .select((eb) => eb.fn.countAll<number>().as('total'));
  if (owner !== undefined) {
    rows = rows.where('users.username_lower', '=', owner);
    count = count.where('users.username_lower', '=', owner);
  }
  const [items, total] = await Promise.all([
    rows
      .orderBy('api_keys.created_at', 'desc')
      .orderBy('api_keys.id')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    count.executeTakeFirstOrThrow(),
  ]);
  return { rows: items, total: Number(total.total) };
}

export async function insertApiKey(db: Kysely<Database>, row: NewApiKeyRow): Promise<void> {
  await db.insertInto('api_keys').values(row).execute();
}

export async function updateApiKey(db: Kysely<Database>, id: string, patch: ApiKeyRowUpdate): Promise<void> {
  await db.updateTable('api_keys').set(patch).where('id', '=', id).execute();
}

export async function deleteApiKey(db: Kysely<Database>, id: string): Promise<number> {
  const result = await db.deleteFrom('api_keys').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Writes the last-use times gathered since the previous flush, in one transaction: a time only moves forward,
 * and a key deleted meanwhile is simply not there to update.
 */
export async function writeLastUsed(db: Kysely<Database>, times: ReadonlyMap<string, number>): Promise<void> {
  if (times.size === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const [id, at] of times) {
      await trx
        .updateTable('api_keys')
        .set({ last_used_at: at })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
        .execute();
    }
  });
}
