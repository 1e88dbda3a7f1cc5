import { type Kysely, PostgresAdapter } from 'kysely';

// Frozen in time: this file must never import application code, and must never change once released.
// The change feed (docs/architecture.md#change-feed): one row per committed change that can alter a decision,
// appended in the change's own transaction; every Warden process follows it by id. `payload` is the change as
// JSON (names and ids, never secrets); `at` (epoch ms) lets old rows be pruned.

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped schema on purpose.
export async function up(db: Kysely<any>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('change_feed')
    .addColumn('id', isPostgres ? 'bigserial' : 'integer', (c) =>
      isPostgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('payload', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('change_feed_at').on('change_feed').column('at').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('change_feed').execute();
}
