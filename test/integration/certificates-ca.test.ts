import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createSecretBox } from '../../src/core/crypto/secret-box.js';
import { AppError } from '../../src/core/errors/app-error.js';
import { openDatabase } from '../../src/db/database.js';
import { createAuditService } from '../../src/modules/audit/audit.service.js';
import { createCertificateAuthority } from '../../src/modules/certificates/certificate-authority.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { createUserReader } from '../../src/modules/users/users.reader.js';
import { ENGINES } from '../helpers/databases.js';
import { makeCsr, makeKey, openssl, tempDir } from '../helpers/openssl.js';
import { createTestContext, type TestContext } from '../helpers/test-app.js';

const DAY = 86_400_000;

/** The code of the AppError `promise` rejects with. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

const pki = tempDir();
let ecKey: string;
let ecCsr: string;
let rsaCsr: string;

beforeAll(() => {
  ecKey = makeKey(pki.file('ec.key'));
  ecCsr = makeCsr(ecKey, '/CN=dev-1');
  rsaCsr = makeCsr(makeKey(pki.file('rsa.key'), { kind: 'rsa', bits: 2048 }), '/CN=dev-1');
});
afterAll(() => pki.remove());

describe.each(ENGINES)('certificate authority (%s)', (engine) => {
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext({ engine });
    await t.createUser({ username: 'dev-1', kind: 'device' });
  });
  afterEach(async () => {
    await t.close();
  });

  it('creates the CA once, at first use, with its key sealed and audited once', async () => {
    expect(await t.database.db.selectFrom('certificate_authorities').selectAll().execute()).toHaveLength(0);
    const [a, b] = await Promise.all([
      t.services.certificates.caCertificatePem(),
      t.services.certificates.caCertificatePem(),
    ]);
    expect(a).toBe(b);
    const ca = new X509Certificate(a);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toMatch(/^CN=Warden CA [0-9a-f]{16}$/);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.publicKey.asymmetricKeyType).toBe('ec');
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const years = (Date.parse(ca.validTo) - t.clock.now()) / (365 * DAY);
    expect(years).toBeGreaterThan(9.9);
    expect(years).toBeLessThan(10.1);
    const text = openssl(['x509', '-noout', '-text'], { input: a });
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);

    const rows = await t.database.db.selectFrom('certificate_authorities').selectAll().execute();
    expect(rows).toHaveLength(1);
    const row = rows[0];
    if (!row) throw new Error('no CA row');
    // Sealed: neither PEM nor raw PKCS#8 in the table.
    expect(row.sealed_key).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain('PRIVATE KEY');
    expect(row.sealed_key).not.toContain('MIG');
    const audit = await t.services.audit.list({ action: 'certificate.ca_create' }, 1, 25);
    expect(audit.total).toBe(1);
    expect(audit.items[0]?.actor.name).toBe('system');
  });

  it('two instances creating the CA at once end up with one', async () => {
    // A second process on the same database: its own services, its own memory.
    const other = openDatabase(t.database.location);
    try {
      const box = createSecretBox(t.services.infra.secretKey);
      const clock = new ManualClock(t.clock.now());
      const audit = createAuditService({ db: other.db, clock });
      const second = createCertificateAuthority({
        db: other.db,
        clock,
        box,
        audit,
        users: createUserReader({ db: other.db }),
      });
      const results = await Promise.all([
        t.services.certificates.caCertificatePem(),
        second.caCertificatePem(),
        t.services.certificates.caCertificatePem(),
        second.caCertificatePem(),
      ]);
      expect(new Set(results).size).toBe(1);
      expect(await t.database.db.selectFrom('certificate_authorities').selectAll().execute()).toHaveLength(1);
      expect((await t.services.audit.list({ action: 'certificate.ca_create' }, 1, 25)).total).toBe(1);
      // Both sign with the one key: a certificate issued by the second verifies under the CA the first serves.
      const issued = await second.issue(ecCsr, 'dev-1', { validityDays: 30 });
      const caFile = pki.file(`ca-${engine}.pem`);
      const certFile = pki.file(`leaf-${engine}.pem`);
      fs.writeFileSync(caFile, results[0] as string);
      fs.writeFileSync(certFile, issued.certificatePem);
      expect(openssl(['verify', '-CAfile', caFile, certFile]).trim()).toBe(`${certFile}: OK`);
    } finally {
      await other.close();
    }
  });

  it('issues client certificates that openssl verifies, with the clock deciding their validity', async () => {
    const caPem = await t.services.certificates.caCertificatePem();
    const caFile = pki.file(`ca-issue-${engine}.pem`);
    fs.writeFileSync(caFile, caPem);
    for (const [name, csr, keyType] of [
      ['ec', ecCsr, 'EC P-256'],
      ['rsa', rsaCsr, 'RSA 2048'],
    ] as const) {
      const issued = await t.services.certificates.issue(csr, 'dev-1', { validityDays: 90 });
      expect(issued.chainPem).toBe(caPem);
      const certFile = pki.file(`issued-${name}-${engine}.pem`);
      fs.writeFileSync(certFile, issued.certificatePem);
      expect(openssl(['verify', '-purpose', 'sslclient', '-CAfile', caFile, certFile]).trim()).toBe(
        `${certFile}: OK`,
      );
      const cert = new X509Certificate(issued.certificatePem);
      expect(cert.subject).toBe('CN=dev-1');
      expect(cert.serialNumber.toLowerCase()).toBe(issued.serialNumber);
      expect(issued.serialNumber).toMatch(/^[0-9a-f]{2,34}$/);
      const expectedEnd = Math.floor(t.clock.now() / 1000) * 1000 + 90 * DAY;
      expect(Date.parse(cert.validTo)).toBe(expectedEnd);
      expect(issued.notAfter).toBe(new Date(expectedEnd).toISOString());
      expect(Date.parse(cert.validFrom)).toBe(Math.floor(t.clock.now() / 1000) * 1000 - 5 * 60_000);
      const text = openssl(['x509', '-noout', '-text'], { input: issued.certificatePem });
      expect(text).toContain('TLS Web Client Authentication');
      expect(text).not.toContain('TLS Web Server Authentication');
      expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      expect(text).toMatch(
        name === 'ec'
          ? /Key Usage: critical\s+Digital Signature, Key Agreement/
          : /Key Usage: critical\s+Digital Signature\n/,
      );
      expect(text).toContain('Authority Key Identifier');
      expect(text).toContain('Subject Key Identifier');
      const row = await t.database.db
        .selectFrom('issued_certificates')
        .selectAll()
        .where('serial', '=', issued.serialNumber)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ username: 'dev-1', key_type: keyType, revoked_at: null });
      expect(row.fingerprint_sha256).toBe(cert.fingerprint256.replaceAll(':', '').toLowerCase());
      expect(row.not_after).toBe(expectedEnd);
      const user = await t.services.userReader.mustFindRow('dev-1');
      expect(row.user_id).toBe(user.id);
    }
    const audit = await t.services.audit.list({ action: 'certificate.issue' }, 1, 25);
    expect(audit.total).toBe(2);
    // A clock a year on: the certificate's times follow it.
    t.clock.advance(365 * DAY);
    const later = await t.services.certificates.issue(ecCsr, 'dev-1', { validityDays: 1 });
    expect(Date.parse(later.notAfter)).toBe(Math.floor(t.clock.now() / 1000) * 1000 + DAY);
  });

  it("records the certificate in the caller's transaction, or not at all", async () => {
    await t.services.certificates.caCertificatePem();
    let serial = '';
    await expect(
      t.database.db.transaction().execute(async (trx) => {
        serial = (
          await t.services.certificates.issue(ecCsr, 'dev-1', { validityDays: 5, trx, context: CLI_CONTEXT })
        ).serialNumber;
        throw new Error('the caller rolls back');
      }),
    ).rejects.toThrow('the caller rolls back');
    expect(serial).not.toBe('');
    expect(await t.database.db.selectFrom('issued_certificates').selectAll().execute()).toHaveLength(0);
    expect((await t.services.audit.list({ action: 'certificate.issue' }, 1, 25)).total).toBe(0);
    const issued = await t.database.db
      .transaction()
      .execute((trx) =>
        t.services.certificates.issue(ecCsr, 'dev-1', { validityDays: 5, trx, context: CLI_CONTEXT }),
      );
    const audit = await t.services.audit.list({ action: 'certificate.issue' }, 1, 25);
    expect(audit.items[0]).toMatchObject({
      actor: { name: 'cli' },
      target: `certificate:${issued.serialNumber}`,
    });
  });

  it("creates the CA inside a caller's transaction when it is first used there", async () => {
    const issued = await t.database.db
      .transaction()
      .execute((trx) => t.services.certificates.issue(ecCsr, 'dev-1', { validityDays: 5, trx }));
    expect(issued.chainPem).toBe(await t.services.certificates.caCertificatePem());
    expect(await t.database.db.selectFrom('certificate_authorities').selectAll().execute()).toHaveLength(1);
  });

  it('refuses bad requests with the code that says why', async () => {
    const ca = t.services.certificates;
    await expect(ca.checkCsr(ecCsr, 'dev-1')).resolves.toBeUndefined();
    await expect(ca.checkCsr(rsaCsr, 'dev-1')).resolves.toBeUndefined();
    expect(await codeOf(ca.checkCsr(ecCsr, 'dev-2'))).toBe('certificate.csr_invalid');
    expect(await codeOf(ca.checkCsr(ecCsr, 'DEV-1'))).toBe('certificate.csr_invalid');
    expect(await codeOf(ca.checkCsr('garbage', 'dev-1'))).toBe('certificate.csr_invalid');
    expect(await codeOf(ca.checkCsr('', 'dev-1'))).toBe('certificate.csr_invalid');
    const garbageBlock = '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n';
    expect(await codeOf(ca.checkCsr(garbageBlock, 'dev-1'))).toBe('certificate.csr_invalid');
    expect(await codeOf(ca.checkCsr(`${ecCsr}${ecCsr}`, 'dev-1'))).toBe('certificate.csr_invalid');
    const caPem = await ca.caCertificatePem();
    expect(await codeOf(ca.checkCsr(caPem, 'dev-1'))).toBe('certificate.csr_invalid');
    expect(await codeOf(ca.checkCsr(`${ecCsr}${'#'.repeat(8 * 1024)}`, 'dev-1'))).toBe(
      'certificate.csr_too_large',
    );

    // A byte of the signature changed: still a well-formed request, but not signed by its key.
    const body = ecCsr.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const raw = Buffer.from(body, 'base64');
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 0x01;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${raw.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(ca.checkCsr(tampered, 'dev-1')).rejects.toThrow(/signature/);

    const weak = makeCsr(makeKey(pki.file('rsa1024.key'), { kind: 'rsa', bits: 1024 }), '/CN=dev-1');
    await expect(ca.checkCsr(weak, 'dev-1')).rejects.toThrow(/1024 bits is too weak/);
    const p521 = makeCsr(makeKey(pki.file('p521.key'), { kind: 'ec', curve: 'secp521r1' }), '/CN=dev-1');
    await expect(ca.checkCsr(p521, 'dev-1')).rejects.toThrow(/secp521r1 is not accepted/);
    const p384 = makeCsr(makeKey(pki.file('p384.key'), { kind: 'ec', curve: 'secp384r1' }), '/CN=dev-1');
    await expect(ca.checkCsr(p384, 'dev-1')).resolves.toBeUndefined();
    openssl(['genpkey', '-algorithm', 'ed25519', '-out', pki.file('ed.key')]);
    const ed = makeCsr(pki.file('ed.key'), '/CN=dev-1');
    await expect(ca.checkCsr(ed, 'dev-1')).rejects.toThrow(/ed25519 is not accepted/);
    const twoNames = makeCsr(ecKey, '/CN=dev-1/CN=dev-1');
    await expect(ca.checkCsr(twoNames, 'dev-1')).rejects.toThrow(/exactly one CN, it holds 2/);
    const multiValued = makeCsr(ecKey, '/CN=dev-1+CN=admin');
    await expect(ca.checkCsr(multiValued, 'dev-1')).rejects.toThrow(/exactly one CN/);
    const noName = makeCsr(ecKey, '/O=Acme');
    await expect(ca.checkCsr(noName, 'dev-1')).rejects.toThrow(/exactly one CN, it holds 0/);
    // Other attributes are ignored: the certificate names the user alone.
    const withOrg = makeCsr(ecKey, '/O=Acme/CN=dev-1');
    const issued = await ca.issue(withOrg, 'dev-1', { validityDays: 1 });
    expect(new X509Certificate(issued.certificatePem).subject).toBe('CN=dev-1');

    // issue() runs the same checks, and its own.
    expect(await codeOf(ca.issue(weak, 'dev-1', { validityDays: 1 }))).toBe('certificate.csr_invalid');
    expect(await codeOf(ca.issue(ecCsr, 'dev-1', { validityDays: 0 }))).toBe('certificate.validity_invalid');
    expect(await codeOf(ca.issue(ecCsr, 'dev-1', { validityDays: 3651 }))).toBe(
      'certificate.validity_invalid',
    );
    expect(await codeOf(ca.issue(ecCsr, 'dev-1', { validityDays: 1.5 }))).toBe(
      'certificate.validity_invalid',
    );
    expect(await codeOf(ca.issue(ecCsr, 'nobody', { validityDays: 1 }))).toBe('user.not_found');
    // The CN must be the stored spelling: a CSR for `DEV-1` is not one for `dev-1`.
    const upper = makeCsr(ecKey, '/CN=DEV-1');
    expect(await codeOf(ca.issue(upper, 'DEV-1', { validityDays: 1 }))).toBe('certificate.csr_invalid');
    expect(await t.database.db.selectFrom('issued_certificates').selectAll().execute()).toHaveLength(1);
  });

  it('signs a CRL of revoked certificates and those of deleted users, until they expire, that openssl checks', async () => {
    await t.createUser({ username: 'dev-2', kind: 'device' });
    const keep = await t.services.certificates.issue(ecCsr, 'dev-1', { validityDays: 30 });
    const revoked = await t.services.certificates.issue(ecCsr, 'dev-1', { validityDays: 30 });
    const short = await t.services.certificates.issue(ecCsr, 'dev-1', { validityDays: 1 });
    const orphan = await t.services.certificates.issue(makeCsr(ecKey, '/CN=dev-2'), 'dev-2', {
      validityDays: 30,
    });
    await t.services.certificates.revoke(CLI_CONTEXT, revoked.serialNumber);
    await t.services.certificates.revoke(CLI_CONTEXT, short.serialNumber);
    await t.services.users.remove(CLI_CONTEXT, 'dev-2');
    const write = (name: string, pem: string): string => {
      const file = pki.file(`${name}-${engine}.pem`);
      fs.writeFileSync(file, pem);
      return file;
    };
    const caFile = write('crl-ca', await t.services.certificates.caCertificatePem());
    const crlFile = write('crl', await t.services.certificates.revocationListPem());
    expect(openssl(['crl', '-in', crlFile, '-CAfile', caFile, '-noout'], {}).trim()).toBe('');
    const text = openssl(['crl', '-in', crlFile, '-noout', '-text']);
    const listed = [...text.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) =>
      (m[1] as string).toLowerCase(),
    );
    expect(listed.sort()).toEqual([orphan.serialNumber, revoked.serialNumber, short.serialNumber].sort());
    expect(text).toContain('Cessation Of Operation');
    expect(text).toMatch(/Next Update: /);
    const verify = (name: string, pem: string) =>
      openssl(['verify', '-crl_check', '-CRLfile', crlFile, '-CAfile', caFile, write(name, pem)]);
    expect(verify('keep', keep.certificatePem)).toMatch(/: OK/);
    expect(() => verify('revoked', revoked.certificatePem)).toThrow(/certificate revoked/);
    expect(() => verify('orphan', orphan.certificatePem)).toThrow(/certificate revoked/);
    // Once expired, a certificate leaves the list.
    t.clock.advance(2 * DAY);
    const later = openssl(['crl', '-noout', '-text'], {
      input: await t.services.certificates.revocationListPem(),
    });
    expect(later).not.toContain(short.serialNumber.toUpperCase());
    expect(later).toContain(revoked.serialNumber.toUpperCase());
  });

  it('refuses to open the CA key with another secret key', async () => {
    await t.services.certificates.caCertificatePem();
    const other = createCertificateAuthority({
      db: t.database.db,
      clock: t.clock,
      box: createSecretBox('x'.repeat(40)),
      audit: t.services.audit,
      users: t.services.userReader,
    });
    await expect(other.caCertificatePem()).rejects.toThrow(/WARDEN_SECRET_KEY/);
  });
});
