import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { ENGINES } from '../helpers/databases.js';
import { makeCsr, makeKey, tempDir } from '../helpers/openssl.js';
import { createTestContext, ROOT_PASSWORD, type TestContext } from '../helpers/test-app.js';

const pki = tempDir();
let csr: (cn: string) => string;
beforeAll(() => {
  const key = makeKey(pki.file('dev.key'));
  csr = (cn) => makeCsr(key, `/CN=${cn}`);
});
afterAll(() => pki.remove());

describe.each(ENGINES)('certificates API (%s)', (engine) => {
  let t: TestContext;
  let root: string;
  beforeEach(async () => {
    t = await createTestContext({ engine });
    root = await t.login('admin', ROOT_PASSWORD);
    await t.createUser({ username: 'dev-1', kind: 'device' });
    await t.createUser({ username: 'dev-2', kind: 'device' });
  });
  afterEach(() => t.close());

  it('serves the CA certificate to anyone as application/x-pem-file', async () => {
    const res = await t.call('GET', '/api/v1/registry/ca.pem');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-pem-file/);
    expect(res.body).toBe(await t.services.certificates.caCertificatePem());
    expect(res.body).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    expect(res.body).not.toContain('PRIVATE');
    const spec = (await t.call('GET', '/api/openapi.json')).json();
    expect(Object.keys(spec.paths['/api/v1/registry/ca.pem'].get.responses['200'].content)).toEqual([
      'application/x-pem-file',
    ]);
  });

  it('lists issued certificates without private material, filtered by user', async () => {
    const one = await t.services.certificates.issue(csr('dev-1'), 'dev-1', { validityDays: 30 });
    t.clock.advance(1_000);
    const two = await t.services.certificates.issue(csr('dev-2'), 'dev-2', { validityDays: 1 });
    const all = await t.call('GET', '/api/v1/certificates', { cookie: root });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toMatchObject({ total: 2, page: 1, pageSize: 25 });
    expect(all.json().items.map((c: { serialNumber: string }) => c.serialNumber)).toEqual([
      two.serialNumber,
      one.serialNumber,
    ]);
    expect(all.json().items[1]).toEqual({
      serialNumber: one.serialNumber,
      username: 'dev-1',
      keyType: 'EC P-256',
      fingerprintSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      notBefore: expect.any(String),
      notAfter: one.notAfter,
      issuedAt: expect.any(String),
      revokedAt: null,
      status: 'valid',
    });
    expect(all.body).not.toMatch(/BEGIN|PRIVATE|sealed/);
    const mine = await t.call('GET', '/api/v1/certificates?username=DEV-1', { cookie: root });
    expect(mine.json().items.map((c: { username: string }) => c.username)).toEqual(['dev-1']);
    const nobody = await t.call('GET', '/api/v1/certificates?username=nobody', { cookie: root });
    expect(nobody.json()).toMatchObject({ items: [], total: 0 });
    t.clock.advance(2 * 86_400_000);
    const later = await t.call('GET', '/api/v1/certificates', {
      cookie: await t.login('admin', ROOT_PASSWORD),
    });
    expect(later.json().items.map((c: { status: string }) => c.status)).toEqual(['expired', 'valid']);
  });

  it('revokes once, audited, by serial in any spelling; unknown and repeated revocations are refused', async () => {
    const issued = await t.services.certificates.issue(csr('dev-1'), 'dev-1', { validityDays: 30 });
    const spelled = issued.serialNumber.toUpperCase().match(/../g)?.join(':') ?? '';
    const res = await t.call('POST', `/api/v1/certificates/${spelled}/revoke`, { cookie: root });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ serialNumber: issued.serialNumber, status: 'revoked' });
    expect(res.json().revokedAt).toBe(new Date(t.clock.now()).toISOString());
    const audit = (await t.services.audit.list({ action: 'certificate.revoke' }, 1, 25)).items;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor: { name: 'user:admin' },
      target: `certificate:${issued.serialNumber}`,
      outcome: 'success',
      details: { username: 'dev-1' },
    });
    const again = await t.call('POST', `/api/v1/certificates/${issued.serialNumber}/revoke`, {
      cookie: root,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('certificate.already_revoked');
    const unknown = await t.call('POST', '/api/v1/certificates/abcdef/revoke', { cookie: root });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('certificate.not_found');
    const bad = await t.call('POST', '/api/v1/certificates/not-hex/revoke', { cookie: root });
    expect(bad.statusCode).toBe(400);
    // The refused repetition is in the log too.
    const failures = await t.services.audit.list({ action: 'certificate.revoke', outcome: 'failure' }, 1, 25);
    expect(failures.items[0]?.details).toMatchObject({ error: 'certificate.already_revoked' });
  });

  it('refuses viewers and operators without asset_management; an operator holding it may revoke', async () => {
    const issued = await t.services.certificates.issue(csr('dev-1'), 'dev-1', { validityDays: 30 });
    await t.createUser({ username: 'vera', role: 'viewer', scopes: ['log_management'] });
    await t.createUser({ username: 'otto', role: 'operator', scopes: ['log_management'] });
    await t.createUser({ username: 'olga', role: 'operator' });
    for (const name of ['vera', 'otto']) {
      const cookie = await t.login(name);
      const list = await t.call('GET', '/api/v1/certificates', { cookie });
      expect(list.statusCode, name).toBe(403);
      expect(list.json().denial).toMatchObject({ reason: 'scope', anyOf: ['asset_management'] });
      const revoke = await t.call('POST', `/api/v1/certificates/${issued.serialNumber}/revoke`, { cookie });
      expect(revoke.statusCode, name).toBe(403);
      // The CA certificate is public all the same.
      expect((await t.call('GET', '/api/v1/registry/ca.pem', { cookie })).statusCode).toBe(200);
    }
    const anonymous = await t.call('GET', '/api/v1/certificates');
    expect(anonymous.statusCode).toBe(401);
    expect((await t.call('POST', `/api/v1/certificates/${issued.serialNumber}/revoke`)).statusCode).toBe(401);
    const rows = await t.services.certificates.list({ username: 'dev-1' });
    expect(rows.items[0]?.status).toBe('valid');
    const olga = await t.login('olga');
    expect((await t.call('GET', '/api/v1/certificates', { cookie: olga })).statusCode).toBe(200);
    const revoke = await t.call('POST', `/api/v1/certificates/${issued.serialNumber}/revoke`, {
      cookie: olga,
    });
    expect(revoke.statusCode).toBe(200);
    // Not a certificate of a user who outranks the operator.
    await t.createUser({ username: 'boss-dev', kind: 'device', role: 'admin' });
    const bossCert = await t.services.certificates.issue(csr('boss-dev'), 'boss-dev', { validityDays: 30 });
    const outranked = await t.call('POST', `/api/v1/certificates/${bossCert.serialNumber}/revoke`, {
      cookie: olga,
    });
    expect(outranked.statusCode).toBe(403);
    expect(outranked.json()).toMatchObject({ code: 'auth.target_forbidden', denial: { target: 'boss-dev' } });
    expect((await t.services.certificates.list({ username: 'boss-dev' })).items[0]?.status).toBe('valid');
    const refused = await t.services.audit.list({ action: 'certificate.revoke', outcome: 'failure' }, 1, 1);
    expect(refused.items[0]).toMatchObject({ target: `certificate:${bossCert.serialNumber}` });
    const denied = await t.services.audit.list({ action: 'access.denied' }, 1, 25);
    expect(denied.items.some((event) => event.target.includes('/revoke'))).toBe(true);
  });

  it("a deleted user's certificates stay listed as user_deleted; a new user of that name has none", async () => {
    const issued = await t.services.certificates.issue(csr('dev-1'), 'dev-1', { validityDays: 30 });
    await t.services.users.remove(CLI_CONTEXT, 'dev-1');
    await t.createUser({ username: 'dev-1', kind: 'device' });
    expect((await t.services.certificates.list({ username: 'dev-1' })).total).toBe(0);
    const all = await t.services.certificates.list({});
    expect(all.items).toMatchObject([
      { serialNumber: issued.serialNumber, username: 'dev-1', status: 'user_deleted' },
    ]);
  });

  it('serves the CRL to anyone', async () => {
    const res = await t.call('GET', '/api/v1/registry/ca.crl');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-pem-file/);
    expect(res.body).toMatch(/^-----BEGIN X509 CRL-----\n[\s\S]+-----END X509 CRL-----\n$/);
  });
});
