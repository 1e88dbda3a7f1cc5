import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { UserMfaRow } from './mfa.table.js';

/**
 * MFA state: `user_mfa` (the sealed TOTP secret, its last used time step, the enabled and must-enrol flags) and
 * `recovery_codes`. This module is the only one that touches either table. Every "use once" rule is a single
 * conditional UPDATE, so racing requests cannot both succeed: the database decides which one changes the row.
 */

/** A user's MFA row, or undefined when the user has no MFA state at all. */
export function findUserMfa(db: Kysely<Database>, userId: string): Promise<UserMfaRow | undefined> {
  return db.selectFrom('user_mfa').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

/** Which of `userIds` have an enabled authenticator. */
export async function usersWithMfaEnabled(
  db: Kysely<Database>,
  userIds: readonly string[],
): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('user_mfa')
    .select('user_id')
    .where('user_id', 'in', userIds)
    .where('enabled', '=', 1)
    .execute();
  return new Set(rows.map((row) => row.user_id));
}

/** Stores a new, not yet confirmed secret; false when MFA got enabled meanwhile. */
export async function storePendingTotp(
  db: Kysely<Database>,
  userId: string,
  sealedSecret: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .insertInto('user_mfa')
    .values({
      user_id: userId,
      enabled: 0,
      enroll_required: 0,
      totp_secret: sealedSecret,
      totp_last_step: null,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ totp_secret: sealedSecret, totp_last_step: null, updated_at: now })
        .where('user_mfa.enabled', '=', 0),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

/**
 * Turns the pending secret on, consuming the confirming code's time step. Only succeeds for the very secret the
 * code was checked against and only once.
 */
export async function enableTotp(
  db: Kysely<Database>,
  userId: string,
  sealedSecret: string,
  step: number,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('user_mfa')
    .set({ enabled: 1, enroll_required: 0, totp_last_step: step, updated_at: now })
    .where('user_id', '=', userId)
    .where('enabled', '=', 0)
    .where('totp_secret', '=', sealedSecret)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Consumes a time step of the enabled secret: true for the first use, false for a replay or an older step. */
export async function consumeTotpStep(db: Kysely<Database>, userId: string, step: number): Promise<boolean> {
  const result = await db
    .updateTable('user_mfa')
    .set({ totp_last_step: step })
    .where('user_id', '=', userId)
    .where('enabled', '=', 1)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function replaceRecoveryCodes(
  db: Kysely<Database>,
  userId: string,
  codeHashes: readonly string[],
): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  await db
    .insertInto('recovery_codes')
    .values(codeHashes.map((code_hash) => ({ id: randomUUID(), user_id: userId, code_hash, used_at: null })))
    .execute();
}

/** Marks a recovery code used: true for its first use only. */
export async function consumeRecoveryCode(
  db: Kysely<Database>,
  userId: string,
  codeHash: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('recovery_codes')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function countUnusedRecoveryCodes(db: Kysely<Database>, userId: string): Promise<number> {
  const { n } = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/**
 * Removes the authenticator and the recovery codes; `enrollRequired` makes the next login enrol again (the row
 * stays only to carry that duty).
 */
export async function clearMfa(
  db: Kysely<Database>,
  userId: string,
  options: { enrollRequired: boolean; now: number },
): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  if (!options.enrollRequired) {
    await db.deleteFrom('user_mfa').where('user_id', '=', userId).execute();
    return;
  }
  await db
    .insertInto('user_mfa')
    .values({
      user_id: userId,
      enabled: 0,
      enroll_required: 1,
      totp_secret: null,
      totp_last_step: null,
      updated_at: options.now,
    })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({
        enabled: 0,
        enroll_required: 1,
        totp_secret: null,
        totp_last_step: null,
        updated_at: options.now,
      }),
    )
    .execute();
}
