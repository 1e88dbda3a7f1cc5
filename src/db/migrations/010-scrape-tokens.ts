import type { Kysely } from 'kysely';

// Frozen in time: this file must never import application code, and must never change once released.
// Scrape tokens for GET /metrics (docs/metrics.md): `id` is also the first part of the token a scraper presents
// (`wdm_<id>_<secret>`), so a token is found by its primary key; only the keyed hash of the secret part is stored
// (`$warden-hmac-sha256$…`, docs/authentication.md#the-keyed-hash). Times are epoch ms; `expires_at` null = never.

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped schema on purpose.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('scrape_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('scrape_tokens').execute();
}
