import { type Kysely, sql } from 'kysely';

// Frozen in time: this file must never import application code, and must never change once released.
// MFA state moves out of `users` into `user_mfa`, owned by the MFA module alone (docs/architecture.md: one owner
// per table). Rows are copied as they are — sealed TOTP secrets keep their ciphertext (sealed for the user id,
// which does not change), the last used time step keeps single use across the upgrade — and only users with
// some MFA state get a row. Then the four columns leave `users`. It also repairs session timeouts outside
// 0–525600 minutes, which the API accepted (as "Infinity") before numbers were checked as finite, and which no
// list of users could be serialised with: they become 0, the system default.

const MOVED_COLUMNS = ['mfa_enabled', 'mfa_enroll_required', 'totp_secret', 'totp_last_step'] as const;

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped schema on purpose.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('user_mfa')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('enroll_required', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('totp_secret', 'text')
    .addColumn('totp_last_step', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`
    insert into user_mfa (user_id, enabled, enroll_required, totp_secret, totp_last_step, updated_at)
    select id, mfa_enabled, mfa_enroll_required, totp_secret, totp_last_step, updated_at
    from users
    where mfa_enabled = 1 or mfa_enroll_required = 1 or totp_secret is not null`.execute(db);
  // Neither engine indexes these columns or names them in a trigger (migration 003's triggers read role and
  // active only), so both can drop them in place.
  for (const column of MOVED_COLUMNS) await db.schema.alterTable('users').dropColumn(column).execute();
  await sql`
    update users set session_timeout_minutes = 0
    where not (session_timeout_minutes between 0 and 525600)`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('mfa_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('users')
    .addColumn('mfa_enroll_required', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('users').addColumn('totp_secret', 'text').execute();
  await db.schema.alterTable('users').addColumn('totp_last_step', 'bigint').execute();
  await sql`
    update users set
      mfa_enabled = (select enabled from user_mfa where user_mfa.user_id = users.id),
      mfa_enroll_required = (select enroll_required from user_mfa where user_mfa.user_id = users.id),
      totp_secret = (select totp_secret from user_mfa where user_mfa.user_id = users.id),
      totp_last_step = (select totp_last_step from user_mfa where user_mfa.user_id = users.id)
    where id in (select user_id from user_mfa)`.execute(db);
  await db.schema.dropTable('user_mfa').execute();
}
