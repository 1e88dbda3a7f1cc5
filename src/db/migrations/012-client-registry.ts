import { type Kysely, sql } from 'kysely';

// Frozen in time: this file must never import application code, and must never change once released.
// The device client registry (docs/registry.md).
// - `registry_state`: one row (id 1): until when an administrator unlocked the registry (epoch ms, null = locked)
//   and the registry's limits, which administrators change through the API or the CLI.
// - `registry_requests`: registration requests of devices. `id` is also the id part of the request's poll secret
//   (`wdp_<id>_<secret>`), of which only the keyed hash is stored. `status` is pending, approved, rejected or
//   expired; a pending request past `expires_at` counts as expired at once and is marked so by the next cleanup.
//   At most one pending request per username (a partial unique index). An approved request names its user and,
//   when the device sent a CSR, holds the issued certificate and its chain (public data);
//   `delivered_at` is set by the one claim that delivers the credentials.
// - `registry_tokens`: enrolment tokens (`wde_<id>_<secret>`, only the keyed hash stored), each usable
//   `max_uses` times until `expires_at`.
// Times are epoch ms; JSON columns (`metadata`, `access_roles`) are text.

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped schema on purpose.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('registry_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('unlocked_until', 'bigint')
    .addColumn('max_pending', 'integer', (c) => c.notNull().defaultTo(1000))
    .addColumn('request_expiry_hours', 'integer', (c) => c.notNull().defaultTo(24))
    .addColumn('certificate_validity_days', 'integer', (c) => c.notNull().defaultTo(365))
    .addColumn('updated_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.insertInto('registry_state').values({ id: 1 }).execute();

  await db.schema
    .createTable('registry_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('username_lower', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text')
    .addColumn('csr_pem', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('poll_secret_hash', 'text', (c) => c.notNull())
    .addColumn('enrolment_token_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .addColumn('decided_by', 'text')
    .addColumn('reason', 'text')
    .addColumn('access_roles', 'text')
    .addColumn('user_id', 'text')
    .addColumn('certificate_serial', 'text')
    .addColumn('certificate_pem', 'text')
    .addColumn('certificate_chain_pem', 'text')
    .addColumn('delivered_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('registry_requests_pending_username')
    .on('registry_requests')
    .column('username_lower')
    .unique()
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema
    .createIndex('registry_requests_status')
    .on('registry_requests')
    .columns(['status', 'expires_at'])
    .execute();
  await db.schema
    .createIndex('registry_requests_created')
    .on('registry_requests')
    .column('created_at')
    .execute();

  await db.schema
    .createTable('registry_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('max_uses', 'integer', (c) => c.notNull())
    .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('registry_tokens').execute();
  await db.schema.dropTable('registry_requests').execute();
  await db.schema.dropTable('registry_state').execute();
}
