import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type {
  CertificateAuthorityRow,
  IssuedCertificateRow,
  NewIssuedCertificateRow,
} from './certificates.table.js';

/** Plain data-access functions for the CA and its certificates; `db` may be a transaction. */

export function findAuthority(
  db: Kysely<Database>,
  slot: string,
): Promise<CertificateAuthorityRow | undefined> {
  return db.selectFrom('certificate_authorities').selectAll().where('slot', '=', slot).executeTakeFirst();
}

/**
 * Inserts the CA unless the slot already holds one (another instance won the race); true when this insert won.
 * The loser's freshly made key is simply discarded.
 */
export async function insertAuthorityIfAbsent(
  db: Kysely<Database>,
  row: CertificateAuthorityRow,
): Promise<boolean> {
  const result = await db
    .insertInto('certificate_authorities')
    .values(row)
    .onConflict((conflict) => conflict.column('slot').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function insertIssuedCertificate(
  db: Kysely<Database>,
  row: NewIssuedCertificateRow,
): Promise<void> {
  await db.insertInto('issued_certificates').values(row).execute();
}

export function findIssuedCertificate(
  db: Kysely<Database>,
  serial: string,
): Promise<IssuedCertificateRow | undefined> {
  return db.selectFrom('issued_certificates').selectAll().where('serial', '=', serial).executeTakeFirst();
}

/** One page of issued certificates, newest first, optionally of one user (by id). */
export async function listIssuedCertificates(
  db: Kysely<Database>,
  filter: { userId?: string },
  page: { limit: number; offset: number },
): Promise<{ rows: IssuedCertificateRow[]; total: number }> {
  let rows = db.selectFrom('issued_certificates').selectAll();
  let count = db.selectFrom('issued_certificates').select((eb) => eb.fn.countAll<number>().as('total'));
  if (filter.userId !== undefined) {
    rows = rows.where('user_id', '=', filter.userId);
    count = count.where('user_id', '=', filter.userId);
  }
  const [items, total] = await Promise.all([
    rows.orderBy('issued_at', 'desc').orderBy('serial').limit(page.limit).offset(page.offset).execute(),
    count.executeTakeFirstOrThrow(),
  ]);
  return { rows: items, total: Number(total.total) };
}

/**
 * What the CRL lists: certificates revoked or whose user was deleted, and not yet expired (an expired
 * certificate is refused anyway; RFC 5280 lets a CRL drop it).
 */
export function listRevocations(
  db: Kysely<Database>,
  now: number,
): Promise<Pick<IssuedCertificateRow, 'serial' | 'revoked_at' | 'user_id' | 'issued_at'>[]> {
  return db
    .selectFrom('issued_certificates')
    .select(['serial', 'revoked_at', 'user_id', 'issued_at'])
    .where((eb) => eb.or([eb('revoked_at', 'is not', null), eb('user_id', 'is', null)]))
    .where('not_after', '>', now)
    .orderBy('serial')
    .execute();
}

/** Marks a certificate revoked; one conditional UPDATE, so of two concurrent revocations exactly one wins. */
export async function markRevoked(db: Kysely<Database>, serial: string, at: number): Promise<boolean> {
  const result = await db
    .updateTable('issued_certificates')
    .set({ revoked_at: at })
    .where('serial', '=', serial)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
