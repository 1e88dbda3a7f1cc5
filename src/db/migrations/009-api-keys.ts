import type { Kysely } from 'kysely';

// Frozen in time: this file must never import application code, and must never change once released.
// API keys (docs/api-keys.md): a key's id is part of the secret a client sends (`wdn_<id>_<secret>`), so a request
// finds its record by primary key; only the keyed hash of the secret is stored. A key belongs to a user (its
// owner): deleting the user deletes its keys. `role` and `scopes` (a JSON array) are what the key may do at most;
// every request reduces them by the owner's current role and scopes. Times are epoch ms; `expires_at` null =
// never; `last_used_at` is written in batches (about a minute of precision).

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped schema on purpose.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('last_used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('api_keys_owner').on('api_keys').columns(['owner_id', 'created_at']).execute();
  await db.schema.createIndex('api_keys_created').on('api_keys').column('created_at').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('api_keys').execute();
}
