import type { Kysely } from 'kysely';

// Frozen in time: this file must never import application code, and must never change once released.
// Generated secrets of devices and services (docs/authentication.md#generated-secrets):
// - `password_origin`: 'generated' when Warden drew the current password itself, 'chosen' when a person typed
//   it; null for every password set before this release, whose origin nobody recorded. Only those (of devices
//   and services, and of the generator's exact form) move to the keyed fast hash at their next verification.
// - `previous_password_hash` / `previous_valid_until` (epoch ms): the secret a rotation replaced, still accepted
//   for MQTT until then (a grace period), so a fleet can be re-provisioned without a flag day.
// Which hash a record uses is written in the record itself (`$argon2id$…`, `$warden-hmac-sha256$…`), so
// `password_hash` keeps its meaning and existing rows need no rewrite.

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped schema on purpose.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('password_origin', 'text').execute();
  await db.schema.alterTable('users').addColumn('previous_password_hash', 'text').execute();
  await db.schema.alterTable('users').addColumn('previous_valid_until', 'bigint').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['previous_valid_until', 'previous_password_hash', 'password_origin']) {
    await db.schema.alterTable('users').dropColumn(column).execute();
  }
}
