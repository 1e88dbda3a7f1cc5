import { X509Certificate } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PresentedCertificate } from '../../src/modules/certificates/certificate-trust.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { ENGINES } from '../helpers/databases.js';
import { makeCsr, makeKey, tempDir } from '../helpers/openssl.js';
import { createTestContext, type TestContext } from '../helpers/test-app.js';

const DAY = 86_400_000;
const pki = tempDir();
let csr: string;
beforeAll(() => {
  csr = makeCsr(makeKey(pki.file('dev.key')), '/CN=dev-1');
});
afterAll(() => pki.remove());

/** What the TLS listener reports for a certificate that chained to Warden's CA. */
function presented(pem: string, overrides: Partial<PresentedCertificate> = {}): PresentedCertificate {
  const cert = new X509Certificate(pem);
  return {
    chainVerified: true,
    commonName: 'dev-1',
    serialNumber: cert.serialNumber,
    fingerprintSha256: cert.fingerprint256,
    ...overrides,
  };
}

describe.each(ENGINES)('trust in presented client certificates (%s)', (engine) => {
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext({ engine });
    await t.createUser({ username: 'dev-1', kind: 'device' });
  });
  afterEach(() => t.close());

  const verify = (certificate: PresentedCertificate) => t.services.certificates.verifyPresented(certificate);

  it('trusts a recorded certificate of an active user, then answers from memory', async () => {
    const issued = await t.services.certificates.issue(csr, 'dev-1', { validityDays: 10 });
    const user = await t.services.userReader.mustFindRow('dev-1');
    expect(await verify(presented(issued.certificatePem))).toEqual({
      ok: true,
      userId: user.id,
      username: 'dev-1',
      serial: issued.serialNumber,
      notAfter: Date.parse(issued.notAfter),
      remembered: false,
    });
    expect(await verify(presented(issued.certificatePem, { commonName: 'DEV-1' }))).toMatchObject({
      ok: true,
      remembered: true,
    });
  });

  it('refuses what the TLS layer did not verify, unknown serials and another certificate with a known serial', async () => {
    const issued = await t.services.certificates.issue(csr, 'dev-1', { validityDays: 10 });
    const pem = issued.certificatePem;
    expect(await verify(presented(pem, { chainVerified: false }))).toMatchObject({
      ok: false,
      reason: 'untrusted_certificate',
    });
    expect(await verify(presented(pem, { serialNumber: '0BADC0DE' }))).toMatchObject({
      ok: false,
      reason: 'unknown_certificate',
    });
    expect(await verify(presented(pem, { fingerprintSha256: 'AB'.repeat(32) }))).toMatchObject({
      ok: false,
      reason: 'unknown_certificate',
    });
    // A CN other than the one Warden wrote (several CNs arrive as none).
    expect(await verify(presented(pem, { commonName: null }))).toMatchObject({
      ok: false,
      reason: 'unknown_user',
    });
    expect(await verify(presented(pem, { commonName: 'dev-2' }))).toMatchObject({
      ok: false,
      reason: 'unknown_user',
    });
  });

  it('follows the clock: refused once expired, also when remembered', async () => {
    const issued = await t.services.certificates.issue(csr, 'dev-1', { validityDays: 1 });
    expect(await verify(presented(issued.certificatePem))).toMatchObject({ ok: true });
    t.clock.advance(DAY);
    expect(await verify(presented(issued.certificatePem))).toMatchObject({
      ok: false,
      reason: 'expired_certificate',
    });
  });

  it('forgets at once: revocation, deactivation, deletion (a new user of the same name is not trusted)', async () => {
    const first = await t.services.certificates.issue(csr, 'dev-1', { validityDays: 10 });
    const second = await t.services.certificates.issue(csr, 'dev-1', { validityDays: 10 });
    expect(await verify(presented(first.certificatePem))).toMatchObject({ ok: true });
    expect(await verify(presented(second.certificatePem))).toMatchObject({ ok: true });

    await t.services.certificates.revoke(CLI_CONTEXT, first.serialNumber);
    await t.services.changes.settled();
    expect(await verify(presented(first.certificatePem))).toMatchObject({
      ok: false,
      reason: 'revoked_certificate',
    });
    expect(await verify(presented(second.certificatePem))).toMatchObject({ ok: true, remembered: true });

    await t.services.users.deactivate(CLI_CONTEXT, 'dev-1');
    await t.services.changes.settled();
    expect(await verify(presented(second.certificatePem))).toMatchObject({ ok: false, reason: 'inactive' });
    await t.services.users.reactivate(CLI_CONTEXT, 'dev-1');
    expect(await verify(presented(second.certificatePem))).toMatchObject({ ok: true, remembered: false });

    await t.services.users.remove(CLI_CONTEXT, 'dev-1');
    await t.services.changes.settled();
    await t.createUser({ username: 'dev-1', kind: 'device' });
    expect(await verify(presented(second.certificatePem))).toMatchObject({
      ok: false,
      reason: 'unknown_user',
    });
  });

  it('two concurrent revocations: exactly one wins', async () => {
    const issued = await t.services.certificates.issue(csr, 'dev-1', { validityDays: 10 });
    const outcomes = await Promise.allSettled([
      t.services.certificates.revoke(CLI_CONTEXT, issued.serialNumber),
      t.services.certificates.revoke(CLI_CONTEXT, issued.serialNumber),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected');
    expect((rejected as PromiseRejectedResult).reason).toMatchObject({ code: 'certificate.already_revoked' });
    expect(
      (await t.services.audit.list({ action: 'certificate.revoke', outcome: 'success' }, 1, 25)).total,
    ).toBe(1);
  });
});
