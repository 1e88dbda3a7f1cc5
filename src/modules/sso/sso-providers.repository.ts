import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { NewSsoProviderRow, SsoProviderRow, SsoProviderRowUpdate } from './sso.table.js';

/** Plain data-access functions for SSO providers; `db` may be a transaction. */

export function findSsoProvider(db: Kysely<Database>, name: string): Promise<SsoProviderRow | undefined> {
  return db.selectFrom('sso_providers').selectAll().where('name', '=', name).executeTakeFirst();
}

/** Every provider, by name (a deployment has a handful). */
export function listSsoProviders(db: Kysely<Database>): Promise<SsoProviderRow[]> {
  return db.selectFrom('sso_providers').selectAll().orderBy('name').execute();
}

export async function insertSsoProvider(db: Kysely<Database>, row: NewSsoProviderRow): Promise<void> {
  await db.insertInto('sso_providers').values(row).execute();
}

export async function updateSsoProvider(
  db: Kysely<Database>,
  name: string,
  patch: SsoProviderRowUpdate,
): Promise<void> {
  await db.updateTable('sso_providers').set(patch).where('name', '=', name).execute();
}

export async function deleteSsoProvider(db: Kysely<Database>, name: string): Promise<number> {
  const result = await db.deleteFrom('sso_providers').where('name', '=', name).executeTakeFirst();
  return Number(result.numDeletedRows);
}
