import type { Kysely } from 'kysely';

// Frozen in time: this file must never import application code, and must never change once released.
// Warden's certificate authority (docs/certificates.md). `certificate_authorities` holds at most one CA per
// `slot` (only `default` is used): instances that create the CA at the same moment insert into the same slot,
// one insert wins and every instance reads the winner back. `sealed_key` is the CA's PKCS#8 private key sealed
// with the secret box. `issued_certificates` records every certificate issued (by serial, lower-case hex); an
// MQTT client certificate is trusted only while its row names an existing user id and is not revoked. Deleting
// the user keeps its rows with `user_id` null: they are refused, and listed in the CRL like revoked ones.
// Times are epoch ms.

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against an untyped schema on purpose.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('certificate_authorities')
    .addColumn('slot', 'text', (c) => c.primaryKey())
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    .addColumn('sealed_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('issued_certificates')
    .addColumn('serial', 'text', (c) => c.primaryKey())
    .addColumn('ca_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('fingerprint_sha256', 'text', (c) => c.notNull())
    .addColumn('key_type', 'text', (c) => c.notNull())
    .addColumn('not_before', 'bigint', (c) => c.notNull())
    .addColumn('not_after', 'bigint', (c) => c.notNull())
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('issued_certificates_user')
    .on('issued_certificates')
    .columns(['user_id', 'issued_at'])
    .execute();
  await db.schema
    .createIndex('issued_certificates_issued')
    .on('issued_certificates')
    .column('issued_at')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('issued_certificates').execute();
  await db.schema.dropTable('certificate_authorities').execute();
}
