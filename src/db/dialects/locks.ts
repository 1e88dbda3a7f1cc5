import { type Kysely, sql } from 'kysely';
import type { Engine } from '../database.js';
import type { Database } from '../schema.js';

/** Names of the serialization points that check-then-write business rules take inside their transaction. */
export type LockName = 'admin-set' | 'throttle' | 'change-feed';

const LOCK_KEYS: Record<LockName, number> = {
  'admin-set': 7_401_001,
  throttle: 7_401_002,
  'change-feed': 7_401_003,
};

/** The advisory-lock key of a serialization point (for statements that take it themselves). */
export function lockKey(name: LockName): number {
  return LOCK_KEYS[name];
}

/**
 * Serializes transactions that read-then-write a shared invariant (e.g. "at least one active admin").
 * PostgreSQL: a transaction-scoped advisory lock. SQLite: nothing to do, because every transaction starts with
 * `BEGIN IMMEDIATE` and so already holds the database's single write lock.
 */
export async function lockFor(trx: Kysely<Database>, engine: Engine, name: LockName): Promise<void> {
  if (engine === 'postgres') {
    await sql`select pg_advisory_xact_lock(${LOCK_KEYS[name]})`.execute(trx);
  }
}
