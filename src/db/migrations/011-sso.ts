import type { Kysely } from 'kysely';

// Frozen in time: this file must never import application code, and must never change once released.
// Single sign-on with OpenID Connect (docs/sso.md):
// - `sso_providers`: one row per provider, keyed by its `name` (the URL segment of its login routes). The client
//   secret is sealed with the secret box, bound to the provider's name; `scopes` and `role_mapping` are JSON
//   (an array of strings; an array of {value, role, scopes?}); `default_scopes` a JSON array or null (= derived
//   from `default_role`); flags 0/1; times epoch ms.
// - `users.sso_provider`: the provider an `auth_method = 'sso'` user signs in with (kept when switched back to
//   local, so the console can show where the user came from); `users.sso_subject`: the provider's `sub` for the
//   user, linked at the first SSO login, so later logins and the provider's tokens on MQTT find the user even
//   after the email changes at the provider. One subject belongs to one user per provider.

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped schema on purpose.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sso_providers')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('preset', 'text', (c) => c.notNull().defaultTo('generic'))
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('client_secret_sealed', 'text')
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('auto_provision', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('default_role', 'text', (c) => c.notNull().defaultTo('viewer'))
    .addColumn('default_scopes', 'text')
    .addColumn('email_claim', 'text', (c) => c.notNull().defaultTo('email'))
    .addColumn('groups_claim', 'text', (c) => c.notNull().defaultTo('groups'))
    .addColumn('role_mapping', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('users').addColumn('sso_provider', 'text').execute();
  await db.schema.alterTable('users').addColumn('sso_subject', 'text').execute();
  await db.schema
    .createIndex('users_sso_subject')
    .on('users')
    .columns(['sso_provider', 'sso_subject'])
    .unique()
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('users_sso_subject').execute();
  await db.schema.alterTable('users').dropColumn('sso_subject').execute();
  await db.schema.alterTable('users').dropColumn('sso_provider').execute();
  await db.schema.dropTable('sso_providers').execute();
}
