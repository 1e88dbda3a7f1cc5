import type { Kysely } from 'kysely';

// Frozen in time: this file must never import application code, and must never change once released.
// Sessions started by single sign-on (docs/sso.md#signing-in) remember where they came from, for RP-initiated
// logout at the provider:
// - `sessions.sso_provider`: the provider's name; null for a password login.
// - `sessions.sso_id_token_sealed`: the provider's ID token of that sign-in, sealed with the secret box (bound to
//   the session's user), sent back as `id_token_hint` when the user signs out; null when none was kept.

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped schema on purpose.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('sso_provider', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('sso_id_token_sealed', 'text').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('sso_id_token_sealed').execute();
  await db.schema.alterTable('sessions').dropColumn('sso_provider').execute();
}
