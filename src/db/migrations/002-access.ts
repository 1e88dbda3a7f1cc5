import type { Kysely } from 'kysely';

// Frozen in time: this file must never import application code, and must never change once released.
// Access roles (docs/access-rules.md): named, ordered rule lists; `rules` is a JSON array, `version` grows
// with every change so caches of compiled rule sets can tell a stale entry. Names are unique
// case-insensitively (`name_lower`), like usernames, so `Sensor` and `sensor` can never be two roles.

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped schema on purpose.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('access_roles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_lower', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('rules', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  // A user's roles in order (first match wins across them). Deleting a user drops its assignments; deleting a
  // role that still has holders is refused by the foreign key (the service removes them first on `force`).
  await db.schema
    .createTable('user_access_roles')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role_id', 'text', (c) => c.notNull().references('access_roles.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_access_roles_pk', ['user_id', 'role_id'])
    .execute();
  await db.schema.createIndex('user_access_roles_role').on('user_access_roles').column('role_id').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('user_access_roles').execute();
  await db.schema.dropTable('access_roles').execute();
}
