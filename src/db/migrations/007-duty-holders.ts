import type { Kysely } from 'kysely';

// Frozen in time: this file must never import application code, and must never change once released.
// Which instance runs the duties that must run once (docs/deployment.md#duties): the holder of the election
// records itself here and refreshes `heartbeat_at`, so every instance can name it (broker status).

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped schema on purpose.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('duty_holders')
    .addColumn('duty', 'text', (c) => c.primaryKey())
    .addColumn('instance', 'text', (c) => c.notNull())
    .addColumn('since', 'bigint', (c) => c.notNull())
    .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('duty_holders').execute();
}
