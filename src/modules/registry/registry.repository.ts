import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import type { Engine } from '../../db/database.js';
import type { Database } from '../../db/schema.js';
import type { RequestStatus } from './registry.schemas.js';
import type {
  RegistryRequestRow,
  RegistryRequestUpdate,
  RegistryStateRow,
  RegistryStateUpdate,
  RegistryTokenRow,
} from './registry.table.js';

/** Plain data-access functions of the client registry; `db` may be a transaction. No business rules here. */

const STATE_ID = 1;

/**
 * The registry's one state row. With `lock` on PostgreSQL the row stays locked until the transaction ends, so
 * requests that check the pending cap, and unlocks, are serialized (SQLite transactions are serialized already).
 */
export async function readState(
  db: Kysely<Database>,
  lock: { engine: Engine } | null = null,
): Promise<RegistryStateRow> {
  const query = db.selectFrom('registry_state').selectAll().where('id', '=', STATE_ID);
  const row = await (lock?.engine === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
  if (!row) throw new Error('registry_state has no row: migration 012 did not run');
  return row;
}

export async function updateState(db: Kysely<Database>, patch: RegistryStateUpdate): Promise<void> {
  await db.updateTable('registry_state').set(patch).where('id', '=', STATE_ID).execute();
}

/** Requests still waiting for a decision at `now`. */
export async function countPending(db: Kysely<Database>, now: number): Promise<number> {
  const { n } = await db
    .selectFrom('registry_requests')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'pending')
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  return Number(n);
}

export async function insertRequest(db: Kysely<Database>, row: RegistryRequestRow): Promise<void> {
  await db.insertInto('registry_requests').values(row).execute();
}

export function findRequest(db: Kysely<Database>, id: string): Promise<RegistryRequestRow | undefined> {
  return db.selectFrom('registry_requests').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Requests expired at `now`: marked so, or still pending past their expiry. */
function expiredAt(now: number) {
  return (eb: ExpressionBuilder<Database, 'registry_requests'>) =>
    eb.or([
      eb('status', '=', 'expired'),
      eb.and([eb('status', '=', 'pending'), eb('expires_at', '<=', now)]),
    ]);
}

/** One page of requests, newest first; `status` as the clock sees it (a pending request past its expiry is expired). */
export async function listRequests(
  db: Kysely<Database>,
  filter: { status?: RequestStatus; now: number },
  page: { limit: number; offset: number },
): Promise<{ rows: RegistryRequestRow[]; total: number }> {
  let rows = db.selectFrom('registry_requests').selectAll();
  let count = db.selectFrom('registry_requests').select((eb) => eb.fn.countAll<number>().as('total'));
  const { status, now } = filter;
  if (status === 'pending') {
    rows = rows.where('status', '=', 'pending').where('expires_at', '>', now);
    count = count.where('status', '=', 'pending').where('expires_at', '>', now);
  } else if (status === 'expired') {
    rows = rows.where(expiredAt(now));
    count = count.where(expiredAt(now));
  } else if (status !== undefined) {
    rows = rows.where('status', '=', status);
    count = count.where('status', '=', status);
  }
  const [items, total] = await Promise.all([
    rows.orderBy('created_at', 'desc').orderBy('id').limit(page.limit).offset(page.offset).execute(),
    count.executeTakeFirstOrThrow(),
  ]);
  return { rows: items, total: Number(total.total) };
}

/** Whether a request for this username (lower-cased) still waits at `now`. */
export async function pendingFor(db: Kysely<Database>, usernameLower: string, now: number): Promise<boolean> {
  const row = await db
    .selectFrom('registry_requests')
    .select('id')
    .where('username_lower', '=', usernameLower)
    .where('status', '=', 'pending')
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row !== undefined;
}

/** Marks pending requests past their expiry as expired (frees their usernames for new requests). */
export async function expirePending(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db
    .updateTable('registry_requests')
    .set({ status: 'expired' })
    .where('status', '=', 'pending')
    .where('expires_at', '<=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Decides a request that still waits at `now`: one conditional UPDATE, so of two racing decisions exactly one
 * wins. True when this one did.
 */
export async function decideRequest(
  db: Kysely<Database>,
  id: string,
  now: number,
  patch: RegistryRequestUpdate,
): Promise<boolean> {
  const result = await db
    .updateTable('registry_requests')
    .set(patch)
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function updateRequest(
  db: Kysely<Database>,
  id: string,
  patch: RegistryRequestUpdate,
): Promise<void> {
  await db.updateTable('registry_requests').set(patch).where('id', '=', id).execute();
}

/**
 * Claims the delivery of an approved request's credentials: one conditional UPDATE, so of two racing claims (two
 * polls, a poll and an MQTT subscriber, two instances) exactly one wins. True when this one did.
 */
export async function claimDelivery(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('registry_requests')
    .set({ delivered_at: now })
    .where('id', '=', id)
    .where('status', '=', 'approved')
    .where('delivered_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Deletes requests that are finished since before `before`: rejected or expired ones, and approved ones whose
 * credentials were delivered. Approved requests still waiting for their device stay.
 */
export async function purgeFinished(db: Kysely<Database>, before: number): Promise<number> {
  const result = await db
    .deleteFrom('registry_requests')
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'rejected'), eb('decided_at', '<', before)]),
        eb.and([eb('status', 'in', ['pending', 'expired']), eb('expires_at', '<', before)]),
        eb.and([eb('status', '=', 'approved'), eb('delivered_at', '<', before)]),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function insertToken(db: Kysely<Database>, row: RegistryTokenRow): Promise<void> {
  await db.insertInto('registry_tokens').values(row).execute();
}

export function listTokens(db: Kysely<Database>): Promise<RegistryTokenRow[]> {
  return db.selectFrom('registry_tokens').selectAll().orderBy('created_at', 'desc').orderBy('id').execute();
}

export function findToken(db: Kysely<Database>, id: string): Promise<RegistryTokenRow | undefined> {
  return db.selectFrom('registry_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function deleteToken(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('registry_tokens').where('id', '=', id).execute();
}

/**
 * Uses up one admission of a token that is still valid at `now`: one conditional UPDATE, so the last use of an
 * N-use token goes to exactly one of several racing requests. True when this one got it.
 */
export async function consumeToken(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('registry_tokens')
    .set({ uses: sql<number>`uses + 1` })
    .where('id', '=', id)
    .where('expires_at', '>', now)
    .where((eb) => eb('uses', '<', eb.ref('max_uses')))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Deletes tokens that expired before `before` (a used-up token stays listed until it expires). */
export async function purgeExpiredTokens(db: Kysely<Database>, before: number): Promise<number> {
  const result = await db.deleteFrom('registry_tokens').where('expires_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
