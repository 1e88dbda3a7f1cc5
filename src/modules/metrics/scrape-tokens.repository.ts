import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { ScrapeTokenRow } from './scrape-tokens.table.js';

export function listScrapeTokens(db: Kysely<Database>): Promise<ScrapeTokenRow[]> {
  return db.selectFrom('scrape_tokens').selectAll().orderBy('created_at').orderBy('name').execute();
}

export function findScrapeToken(db: Kysely<Database>, id: string): Promise<ScrapeTokenRow | undefined> {
  return db.selectFrom('scrape_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertScrapeToken(db: Kysely<Database>, row: ScrapeTokenRow): Promise<void> {
  await db.insertInto('scrape_tokens').values(row).execute();
}

export async function deleteScrapeToken(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('scrape_tokens').where('id', '=', id).execute();
}

/**
 * Notes a scrape; written at most once a minute per token (`staleBefore`), so a 15-second scrape interval costs
 * one write a minute, not four.
 */
export async function touchScrapeToken(
  db: Kysely<Database>,
  id: string,
  now: number,
  staleBefore: number,
): Promise<void> {
  await db
    .updateTable('scrape_tokens')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', staleBefore)]))
    .execute();
}
