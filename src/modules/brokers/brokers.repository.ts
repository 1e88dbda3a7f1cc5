import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { BrokerIntegrationRow, NewBrokerIntegrationRow } from './brokers.table.js';

/** Plain data-access functions for broker integrations and broker credentials; `db` may be a transaction. */

export function findIntegrationByName(
  db: Kysely<Database>,
  name: string,
): Promise<BrokerIntegrationRow | undefined> {
  return db
    .selectFrom('broker_integrations')
    .selectAll()
    .where('name_lower', '=', name.toLowerCase())
    .executeTakeFirst();
}

export function findIntegrationById(
  db: Kysely<Database>,
  id: string,
): Promise<BrokerIntegrationRow | undefined> {
  return db.selectFrom('broker_integrations').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listIntegrations(db: Kysely<Database>): Promise<BrokerIntegrationRow[]> {
  return db.selectFrom('broker_integrations').selectAll().orderBy('name_lower').execute();
}

export async function insertIntegration(db: Kysely<Database>, row: NewBrokerIntegrationRow): Promise<void> {
  await db.insertInto('broker_integrations').values(row).execute();
}

/** Applies a settings change and bumps `version`; false when `expectedVersion` is not the stored one. */
export async function updateIntegration(
  db: Kysely<Database>,
  id: string,
  patch: { enabled: number; config: string; updated_at: number },
  expectedVersion: number | null,
): Promise<boolean> {
  let query = db
    .updateTable('broker_integrations')
    .set((eb) => ({ ...patch, version: eb('version', '+', 1) }))
    .where('id', '=', id);
  if (expectedVersion !== null) query = query.where('version', '=', expectedVersion);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteIntegration(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('broker_integrations').where('id', '=', id).execute();
}

/** Persists the outcome of a sync (clears the error) or a failure. */
export async function recordStatus(
  db: Kysely<Database>,
  id: string,
  status:
    | { kind: 'synced'; at: number; changes: number }
    | { kind: 'failed'; at: number; error: string | null },
): Promise<void> {
  const patch =
    status.kind === 'synced'
      ? { last_sync_at: status.at, last_sync_changes: status.changes, last_error: null, last_error_at: null }
      : { last_error: status.error, last_error_at: status.error === null ? null : status.at };
  await db.updateTable('broker_integrations').set(patch).where('id', '=', id).execute();
}

/** Stores a user's sealed broker credential, bumping its revision. */
export async function upsertCredential(
  db: Kysely<Database>,
  row: { user_id: string; mosquitto: string; password_changed_at: number | null; updated_at: number },
): Promise<void> {
  await db
    .insertInto('broker_credentials')
    .values({ ...row, revision: 1 })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet((eb) => ({
        mosquitto: eb.ref('excluded.mosquitto'),
        password_changed_at: eb.ref('excluded.password_changed_at'),
        updated_at: eb.ref('excluded.updated_at'),
        revision: eb('broker_credentials.revision', '+', 1),
      })),
    )
    .execute();
}

/**
 * Sealed credentials that are current (captured for the user's present password), by username. The join on
 * `users` is read-only and goes through the foreign key this feature declares: paging every user through the
 * users service for an export would read the same rows the slow way.
 */
export async function currentCredentials(
  db: Kysely<Database>,
): Promise<Array<{ user_id: string; username: string; mosquitto: string }>> {
  return db
    .selectFrom('broker_credentials as c')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .select(['c.user_id', 'u.username', 'c.mosquitto'])
    .whereRef('c.password_changed_at', '=', 'u.password_changed_at')
    .execute();
}

/** Records that a broker holds the user's current credential revision. */
export async function markPasswordSynced(
  db: Kysely<Database>,
  integrationId: string,
  username: string,
  at: number,
): Promise<void> {
  await db
    .insertInto('broker_password_sync')
    .columns(['integration_id', 'user_id', 'revision', 'synced_at'])
    .expression(
      db
        .selectFrom('broker_credentials as c')
        .innerJoin('users as u', 'u.id', 'c.user_id')
        .select([
          sql.lit(integrationId).as('integration_id'),
          'c.user_id',
          'c.revision',
          sql.lit(at).as('synced_at'),
        ])
        .where('u.username_lower', '=', username.toLowerCase()),
    )
    .onConflict((oc) =>
      oc.columns(['integration_id', 'user_id']).doUpdateSet((eb) => ({
        revision: eb.ref('excluded.revision'),
        synced_at: eb.ref('excluded.synced_at'),
      })),
    )
    .execute();
}

/** Forgets that a broker holds the user's password (its client there was recreated without one). */
export async function forgetPasswordSync(
  db: Kysely<Database>,
  integrationId: string,
  username: string,
): Promise<void> {
  await db
    .deleteFrom('broker_password_sync')
    .where('integration_id', '=', integrationId)
    .where('user_id', 'in', (eb) =>
      eb.selectFrom('users').select('id').where('username_lower', '=', username.toLowerCase()),
    )
    .execute();
}

/**
 * Active local users whose current password `integrationId` is not known to hold: no credential captured,
 * a stale one, or one the broker never acknowledged. Returns the exact count and the first `limit` names.
 */
export async function unsyncedPasswords(
  db: Kysely<Database>,
  integrationId: string,
  exclude: string,
  limit: number,
): Promise<{ count: number; usernames: string[] }> {
  const base = db
    .selectFrom('users as u')
    .leftJoin('broker_credentials as c', 'c.user_id', 'u.id')
    .leftJoin('broker_password_sync as s', (join) =>
      join.onRef('s.user_id', '=', 'u.id').on('s.integration_id', '=', integrationId),
    )
    .where('u.active', '=', 1)
    .where('u.auth_method', '=', 'local')
    .where('u.password_hash', 'is not', null)
    .where('u.username_lower', '!=', exclude.toLowerCase())
    .where((eb) =>
      eb.or([
        eb('c.user_id', 'is', null),
        eb('s.revision', 'is', null),
        eb('s.revision', '!=', eb.ref('c.revision')),
        eb('c.password_changed_at', '!=', eb.ref('u.password_changed_at')),
      ]),
    );
  const [names, count] = await Promise.all([
    base.select('u.username').orderBy('u.username_lower').limit(limit).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { count: Number(count.n), usernames: names.map((row) => row.username) };
}
