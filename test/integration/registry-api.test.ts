import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { ENGINES } from '../helpers/databases.js';
import { deviceCall, freshAddress, opensslCsr, opensslVerify, register } from '../helpers/registry.js';
import { createTestContext, ROOT_PASSWORD, type TestContext } from '../helpers/test-app.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe.each(ENGINES)('device client registry API (%s)', (engine) => {
  let t: TestContext;
  let root: string;

  beforeEach(async () => {
    t = await createTestContext({ engine });
    root = await t.login('admin', ROOT_PASSWORD);
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'sensor',
      rules: [{ permission: 'allow', action: 'publish', topic: 'dt/${username}/up' }],
    });
  });
  afterEach(() => t.close());

  const unlock = async (minutes = 10): Promise<void> => {
    const res = await t.call('POST', '/api/v1/registry/unlock', { cookie: root, payload: { minutes } });
    expect(res.statusCode, res.body).toBe(200);
  };
  const poll = (requestId: string, pollSecret: string) =>
    deviceCall(t, 'GET', `/api/v1/registry/requests/${requestId}`, { pollSecret });
  const approve = (id: string, payload: object = {}, cookie = root) =>
    t.call('POST', `/api/v1/registry/requests/${id}/approve`, { cookie, payload });
  const createToken = async (payload: object): Promise<{ token: { id: string }; secret: string }> => {
    const res = await t.call('POST', '/api/v1/registry/tokens', { cookie: root, payload });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };
  const submit = (payload: object, remoteAddress?: string) =>
    deviceCall(t, 'POST', '/api/v1/registry/requests', {
      payload,
      ...(remoteAddress ? { remoteAddress } : {}),
    });

  describe('when registration is open', () => {
    it('refuses devices while locked, and says so in the state', async () => {
      const state = (await t.call('GET', '/api/v1/registry', { cookie: root })).json();
      expect(state).toMatchObject({ unlocked: false, unlockedUntil: null, pendingCount: 0 });
      expect(state.limits).toEqual({
        maxPending: 1000,
        requestExpiryHours: 24,
        certificateValidityDays: 365,
      });
      const res = await submit({ username: 'plc-1' });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('registry.locked');
    });

    it('opens for the unlocked minutes, closes on lock or when they run out, and audits both', async () => {
      const unlocked = await t.call('POST', '/api/v1/registry/unlock', {
        cookie: root,
        payload: { minutes: 10 },
      });
      expect(unlocked.json()).toMatchObject({
        unlocked: true,
        unlockedUntil: new Date(t.clock.now() + 10 * MINUTE).toISOString(),
      });
      expect((await submit({ username: 'plc-1' })).statusCode).toBe(202);
      const locked = await t.call('POST', '/api/v1/registry/lock', { cookie: root });
      expect(locked.json()).toMatchObject({ unlocked: false, unlockedUntil: null, pendingCount: 1 });
      expect((await submit({ username: 'plc-2' })).json().code).toBe('registry.locked');

      await unlock(10);
      t.clock.advance(9 * MINUTE);
      expect((await submit({ username: 'plc-2' })).statusCode).toBe(202);
      t.clock.advance(MINUTE);
      expect((await submit({ username: 'plc-3' })).json().code).toBe('registry.locked');

      const events = await t.services.audit.list({ target: 'registry' }, 1, 25);
      const onState = events.items.filter((e) => e.target === 'registry');
      expect(onState.map((e) => [e.action, e.actor.name])).toEqual([
        ['registry.unlock', 'user:admin'],
        ['registry.lock', 'user:admin'],
        ['registry.unlock', 'user:admin'],
      ]);
      expect(onState[0]?.details).toMatchObject({ minutes: 10 });
    });

    it('refuses an unlock of more than 60 minutes (or none)', async () => {
      for (const minutes of [61, 0, 1.5]) {
        const res = await t.call('POST', '/api/v1/registry/unlock', { cookie: root, payload: { minutes } });
        expect(res.statusCode, String(minutes)).toBe(400);
        expect(res.json().code).toBe('request.invalid');
      }
      expect((await t.call('GET', '/api/v1/registry', { cookie: root })).json().unlocked).toBe(false);
    });

    it('keeps the unlock in the database: another instance on the same database sees it at once', async () => {
      await unlock(5);
      // A second set of services on the same database, as another Warden instance would build it.
      const { createServices } = await import('../../src/services.js');
      const other = createServices({ ...t.services.infra });
      expect((await other.registry.state()).unlocked).toBe(true);
      await t.call('POST', '/api/v1/registry/lock', { cookie: root });
      expect(await other.registry.isUnlocked()).toBe(false);
    });
  });

  describe('enrolment tokens', () => {
    it('a single-use token admits one request while locked, then is used up; shown once, stored hashed', async () => {
      const { token, secret } = await createToken({ name: 'line 4' });
      expect(secret).toMatch(/^wde_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect((await submit({ username: 'plc-1', token: secret })).statusCode).toBe(202);
      const again = await submit({ username: 'plc-2', token: secret });
      expect(again.statusCode).toBe(403);
      expect(again.json().code).toBe('registry.token_invalid');
      const list = await t.call('GET', '/api/v1/registry/tokens', { cookie: root });
      expect(list.json().items).toEqual([
        expect.objectContaining({ id: token.id, name: 'line 4', maxUses: 1, uses: 1, usesLeft: 0 }),
      ]);
      expect(list.body).not.toContain(secret.slice(21));
      const row = await t.database.db
        .selectFrom('registry_tokens')
        .selectAll()
        .where('id', '=', token.id)
        .executeTakeFirstOrThrow();
      expect(row.secret_hash).toMatch(/^\$warden-hmac-sha256\$v=1\$/);
      const [request] = (await t.call('GET', '/api/v1/registry/requests', { cookie: root })).json().items;
      expect(request).toMatchObject({ username: 'plc-1', viaToken: token.id });
    });

    it('an N-use token admits N requests, and not one more, even when they race', async () => {
      const { secret } = await createToken({ uses: 3 });
      const results = await Promise.all(
        ['a-01', 'a-02', 'a-03', 'a-04', 'a-05'].map((username) => submit({ username, token: secret })),
      );
      const codes = results.map((res) => res.statusCode).sort();
      expect(codes).toEqual([202, 202, 202, 403, 403]);
    });

    it('refuses an expired token, a revoked token and a forged one with one answer', async () => {
      const soon = await createToken({ expiresAt: new Date(t.clock.now() + HOUR).toISOString() });
      const revoked = await createToken({ uses: 5 });
      expect((await submit({ username: 'plc-0', token: revoked.secret })).statusCode).toBe(202);
      const del = await t.call('DELETE', `/api/v1/registry/tokens/${revoked.token.id}`, { cookie: root });
      expect(del.statusCode).toBe(204);
      t.clock.advance(HOUR);
      root = await t.login('admin', ROOT_PASSWORD);
      const forged = `${revoked.secret.slice(0, 21)}${'A'.repeat(43)}`;
      for (const token of [soon.secret, revoked.secret, forged, 'not-a-token']) {
        const res = await submit({ username: 'plc-9', token });
        expect(res.statusCode, token).toBe(403);
        expect(res.json().code).toBe('registry.token_invalid');
      }
      // Even while unlocked: a device that brings a token is told it is not valid.
      await unlock();
      expect((await submit({ username: 'plc-9', token: forged })).json().code).toBe('registry.token_invalid');
      const actions = (await t.services.audit.list({ action: 'registry.token_delete' }, 1, 25)).items;
      expect(actions).toHaveLength(1);
    });

    it('refuses a token expiry in the past or beyond a year, and revoking an unknown token', async () => {
      for (const expiresAt of [
        new Date(t.clock.now() - 1).toISOString(),
        new Date(t.clock.now() + 400 * 24 * HOUR).toISOString(),
      ]) {
        const res = await t.call('POST', '/api/v1/registry/tokens', { cookie: root, payload: { expiresAt } });
        expect(res.json().code).toBe('registry.token_expiry_invalid');
      }
      const res = await t.call('DELETE', '/api/v1/registry/tokens/0123456789abcdef', { cookie: root });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('registry.token_not_found');
    });
  });

  describe('requests and polls', () => {
    beforeEach(() => unlock(60));

    it('answers 202 with a poll secret; the poll says pending; a wrong secret and an unknown id get one 404', async () => {
      const res = await submit({ username: 'plc-1', clientId: 'plc-1-mqtt', metadata: { site: 'hall 4' } });
      expect(res.statusCode).toBe(202);
      const { requestId, pollSecret, status, expiresAt } = res.json();
      expect(status).toBe('pending');
      expect(expiresAt).toBe(new Date(t.clock.now() + 24 * HOUR).toISOString());
      expect(pollSecret).toMatch(new RegExp(`^wdp_${requestId}_[A-Za-z0-9_-]{43}$`));
      expect((await poll(requestId, pollSecret)).json()).toEqual({ requestId, status: 'pending', expiresAt });

      const wrong = await poll(requestId, `wdp_${requestId}_${'x'.repeat(43)}`);
      const unknown = await poll('0123456789abcdef', `wdp_0123456789abcdef_${'x'.repeat(43)}`);
      const crossed = await poll('0123456789abcdef', pollSecret);
      for (const refused of [wrong, unknown, crossed]) {
        expect(refused.statusCode).toBe(404);
        expect(refused.json()).toMatchObject({ code: 'registry.request_not_found' });
      }
      // Without any credential the route is the administrators' one: 401.
      expect((await deviceCall(t, 'GET', `/api/v1/registry/requests/${requestId}`)).statusCode).toBe(401);

      const row = await t.database.db
        .selectFrom('registry_requests')
        .selectAll()
        .where('id', '=', requestId)
        .executeTakeFirstOrThrow();
      expect(row.poll_secret_hash).toMatch(/^\$warden-hmac-sha256\$v=1\$/);
      const [event] = (await t.services.audit.list({ action: 'registry.request' }, 1, 25)).items;
      expect(event).toMatchObject({
        actor: { type: 'anonymous', name: 'anonymous' },
        target: `registry_request:${requestId}`,
        details: { username: 'plc-1', clientId: 'plc-1-mqtt', source: 'rest', hasCsr: false },
      });
      expect(JSON.stringify(event)).not.toContain(pollSecret.slice(21));
    });

    it('shows administrators the request (never its secret) and lists pending ones paged', async () => {
      const ip = freshAddress();
      const { requestId, pollSecret } = await register(t, { username: 'plc-1', metadata: { fw: '1.2' } }, ip);
      t.clock.advance(1_000);
      await register(t, { username: 'plc-2' });
      const one = await t.call('GET', `/api/v1/registry/requests/${requestId}`, { cookie: root });
      expect(one.json()).toMatchObject({
        id: requestId,
        username: 'plc-1',
        clientId: null,
        source: 'rest',
        ip,
        metadata: { fw: '1.2' },
        hasCsr: false,
        status: 'pending',
        credentialsDelivered: false,
      });
      expect(one.body).not.toContain(pollSecret.slice(21));
      expect(one.body).not.toMatch(/hash/i);
      const list = await t.call('GET', '/api/v1/registry/requests?status=pending&pageSize=25', {
        cookie: root,
      });
      expect(list.json()).toMatchObject({ total: 2, page: 1, pageSize: 25 });
      expect(list.json().items.map((r: { username: string }) => r.username)).toEqual(['plc-2', 'plc-1']);
      expect((await t.call('GET', '/api/v1/registry', { cookie: root })).json().pendingCount).toBe(2);
    });

    it('validates usernames as for users, refuses a taken one (user or pending request, any case)', async () => {
      await t.createUser({ username: 'plc-taken' });
      await register(t, { username: 'plc-waiting' });
      for (const username of ['PLC-Taken', 'plc-WAITING']) {
        const res = await submit({ username });
        expect(res.statusCode, username).toBe(409);
        expect(res.json().code).toBe('registry.username_taken');
      }
      for (const username of ['ab', 'has space', 'x'.repeat(51), '$registry']) {
        const res = await submit({ username });
        expect(res.statusCode, username).toBe(400);
        expect(res.json().code).toBe('request.invalid');
      }
      expect((await submit({ username: 'plc-1', clientId: 'a/b' })).statusCode).toBe(400);
    });

    it('bounds metadata and CSRs, and refuses unknown fields', async () => {
      const large = await submit({ username: 'plc-1', metadata: { blob: 'x'.repeat(2100) } });
      expect(large.statusCode).toBe(400);
      expect(large.json().code).toBe('registry.metadata_too_large');
      const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
      expect((await submit({ username: 'plc-1', metadata: many })).statusCode).toBe(400);
      expect((await submit({ username: 'plc-1', metadata: ['a'] })).statusCode).toBe(400);
      const csr = await submit({
        username: 'plc-1',
        csr: `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(8200)}`,
      });
      expect(csr.statusCode).toBe(400);
      expect(csr.json().code).toBe('certificate.csr_too_large');
      expect((await submit({ username: 'plc-1', role: 'admin' })).statusCode).toBe(400);
      expect((await t.call('GET', '/api/v1/registry', { cookie: root })).json().pendingCount).toBe(0);
    });

    it('caps the pending requests (429 registry.full) at the limit administrators set', async () => {
      const limits = { maxPending: 2, requestExpiryHours: 24, certificateValidityDays: 365 };
      const set = await t.call('PUT', '/api/v1/registry/limits', { cookie: root, payload: limits });
      expect(set.json().limits).toEqual(limits);
      await register(t, { username: 'plc-1' });
      await register(t, { username: 'plc-2' });
      const full = await submit({ username: 'plc-3' });
      expect(full.statusCode).toBe(429);
      expect(full.json().code).toBe('registry.full');
      // Deciding one makes room.
      const [first] = (await t.call('GET', '/api/v1/registry/requests', { cookie: root })).json().items;
      await t.call('POST', `/api/v1/registry/requests/${first.id}/reject`, { cookie: root, payload: {} });
      expect((await submit({ username: 'plc-3' })).statusCode).toBe(202);
    });

    it('rate-limits each address (429 registry.throttled with Retry-After); other addresses go on', async () => {
      const ip = freshAddress();
      for (let i = 0; i < 30; i++) {
        const res = await submit({ username: 'ab' }, ip);
        expect(res.statusCode).toBe(400);
      }
      const throttled = await submit({ username: 'plc-1' }, ip);
      expect(throttled.statusCode).toBe(429);
      expect(throttled.json().code).toBe('registry.throttled');
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await submit({ username: 'plc-1' }, freshAddress())).statusCode).toBe(202);
      t.clock.advance(2_000);
      expect((await submit({ username: 'plc-2' }, ip)).statusCode).toBe(202);
    });

    it('expires a request after its hours: the poll says expired, approval is refused, the name is free again', async () => {
      const { requestId, pollSecret } = await register(t, { username: 'plc-1' });
      t.clock.advance(24 * HOUR);
      root = await t.login('admin', ROOT_PASSWORD);
      expect((await poll(requestId, pollSecret)).json().status).toBe('expired');
      const late = await approve(requestId);
      expect(late.statusCode).toBe(409);
      expect(late.json().code).toBe('registry.request_expired');
      const expired = await t.call('GET', '/api/v1/registry/requests?status=expired', { cookie: root });
      expect(expired.json().items.map((r: { id: string }) => r.id)).toEqual([requestId]);
      expect((await t.call('GET', '/api/v1/registry', { cookie: root })).json().pendingCount).toBe(0);
      expect((await t.services.userReader.findRow('plc-1')) === undefined).toBe(true);
      await unlock(60);
      expect((await submit({ username: 'plc-1' })).statusCode).toBe(202);
      await t.services.registry.cleanup();
      const old = await t.call('GET', `/api/v1/registry/requests/${requestId}`, { cookie: root });
      expect(old.json().status).toBe('expired');
      t.clock.advance(8 * 24 * HOUR);
      await t.services.registry.cleanup();
      expect((await poll(requestId, pollSecret)).statusCode).toBe(404);
    });

    it('tells a rejected device the reason; a decided request cannot be decided again', async () => {
      const { requestId, pollSecret } = await register(t, { username: 'plc-1' });
      const rejected = await t.call('POST', `/api/v1/registry/requests/${requestId}/reject`, {
        cookie: root,
        payload: { reason: 'unknown serial number' },
      });
      expect(rejected.json()).toMatchObject({ status: 'rejected', decidedBy: 'user:admin' });
      expect((await poll(requestId, pollSecret)).json()).toMatchObject({
        status: 'rejected',
        reason: 'unknown serial number',
      });
      for (const res of [
        await approve(requestId),
        await t.call('POST', `/api/v1/registry/requests/${requestId}/reject`, { cookie: root, payload: {} }),
      ]) {
        expect(res.statusCode).toBe(409);
        expect(res.json().code).toBe('registry.request_decided');
      }
      expect(await t.services.userReader.findRow('plc-1')).toBeUndefined();
      const actions = (await t.services.audit.list({ target: `registry_request:${requestId}` }, 1, 25)).items;
      expect(actions.map((e) => [e.action, e.outcome])).toEqual([
        ['registry.reject', 'failure'],
        ['registry.approve', 'failure'],
        ['registry.reject', 'success'],
        ['registry.request', 'success'],
      ]);
    });
  });

  describe('approval', () => {
    beforeEach(() => unlock(60));

    it('is refused to a viewer and to an operator without asset_management (and audited)', async () => {
      const { requestId } = await register(t, { username: 'plc-1' });
      await t.createUser({ username: 'vera', role: 'viewer', scopes: ['log_management'] });
      await t.createUser({ username: 'otto', role: 'operator', scopes: ['log_management'] });
      const vera = await t.login('vera');
      const otto = await t.login('otto');
      const byViewer = await approve(requestId, {}, vera);
      expect(byViewer.statusCode).toBe(403);
      expect(byViewer.json().denial).toEqual({ reason: 'role', required: 'operator', held: 'viewer' });
      const byOperator = await approve(requestId, {}, otto);
      expect(byOperator.statusCode).toBe(403);
      expect(byOperator.json().denial).toEqual({ reason: 'scope', anyOf: ['asset_management'] });
      for (const cookie of [vera, otto]) {
        for (const [method, url] of [
          ['GET', '/api/v1/registry/requests'],
          ['GET', `/api/v1/registry/requests/${requestId}`],
          ['GET', '/api/v1/registry'],
          ['POST', `/api/v1/registry/requests/${requestId}/reject`],
          ['POST', '/api/v1/registry/unlock'],
          ['POST', '/api/v1/registry/tokens'],
        ] as const) {
          const res = await t.call(method, url, { cookie, ...(method === 'POST' ? { payload: {} } : {}) });
          expect(res.statusCode, `${method} ${url}`).toBe(403);
        }
      }
      // An operator holding asset_management may; the limits need system_config.
      await t.createUser({ username: 'olga', role: 'operator' });
      const olga = await t.login('olga');
      expect((await approve(requestId, {}, olga)).statusCode).toBe(200);
      const limits = { maxPending: 5, requestExpiryHours: 1, certificateValidityDays: 30 };
      expect(
        (await t.call('PUT', '/api/v1/registry/limits', { cookie: olga, payload: limits })).statusCode,
      ).toBe(403);
      const denied = await t.services.audit.list({ action: 'access.denied' }, 1, 50);
      expect(denied.items.some((e) => e.target.endsWith('/approve'))).toBe(true);
    });

    it('creates a device without permissions by default; delivers a password exactly once to racing polls', async () => {
      const { requestId, pollSecret } = await register(t, { username: 'plc-1' });
      const approved = await approve(requestId);
      expect(approved.json()).toMatchObject({
        status: 'approved',
        decidedBy: 'user:admin',
        accessRoles: [],
        credentialsDelivered: false,
      });
      const user = await t.call('GET', '/api/v1/users/plc-1', { cookie: root });
      expect(user.json()).toMatchObject({
        kind: 'device',
        role: 'viewer',
        scopes: [],
        accessRoles: [],
        active: true,
      });

      // A HEAD would claim the credentials and send nothing: there is none.
      const head = await t.app.inject({
        method: 'HEAD',
        url: `/api/v1/registry/requests/${requestId}`,
        headers: { authorization: `Bearer ${pollSecret}` },
      });
      expect(head.statusCode).toBe(405);
      const polls = await Promise.all([poll(requestId, pollSecret), poll(requestId, pollSecret)]);
      const bodies = polls.map((res) => res.json());
      const winners = bodies.filter((body) => body.credentials);
      expect(winners).toHaveLength(1);
      const password = winners[0].credentials.password as string;
      expect(winners[0]).toMatchObject({ status: 'approved', credentialsDelivered: false });
      expect(winners[0].credentials).toEqual({ username: 'plc-1', password });
      expect(bodies.find((body) => !body.credentials)).toMatchObject({
        status: 'approved',
        credentialsDelivered: true,
      });
      const later = await poll(requestId, pollSecret);
      expect(later.json()).toEqual({
        requestId,
        status: 'approved',
        expiresAt: expect.any(String),
        credentialsDelivered: true,
      });

      const row = await t.services.userReader.findRow('plc-1');
      expect(row).toMatchObject({ password_origin: 'generated' });
      expect(row?.password_hash).toMatch(/^\$warden-hmac-sha256\$/);
      const mqtt = await t.services.mqttAuth.authenticate({
        username: 'plc-1',
        password: Buffer.from(password),
        clientId: 'plc-1',
        ip: '203.0.113.9',
      });
      expect(mqtt.ok).toBe(true);
      const decision = await t.call('POST', '/api/v1/access/explain', {
        cookie: root,
        payload: { username: 'plc-1', action: 'publish', topic: 'dt/plc-1/up' },
      });
      expect(decision.json().decision).toBe('deny');

      const events = await t.services.audit.list({ target: `registry_request:${requestId}` }, 1, 25);
      expect(events.items.map((e) => [e.action, e.actor.name])).toEqual([
        ['registry.credentials_delivered', 'user:plc-1'],
        ['registry.approve', 'user:admin'],
        ['registry.request', 'anonymous'],
      ]);
      expect(JSON.stringify(events.items)).not.toContain(password);
      const created = await t.services.audit.list({ action: 'user.create', target: 'user:plc-1' }, 1, 25);
      expect(created.items).toHaveLength(1);
    });

    it('gives the device the access roles it is approved with', async () => {
      const { requestId, pollSecret } = await register(t, { username: 'plc-2' });
      const approved = await approve(requestId, { accessRoles: ['sensor'] });
      expect(approved.json().accessRoles).toEqual(['sensor']);
      expect((await poll(requestId, pollSecret)).json().credentials.password).toEqual(expect.any(String));
      const decision = await t.call('POST', '/api/v1/access/explain', {
        cookie: root,
        payload: { username: 'plc-2', action: 'publish', topic: 'dt/plc-2/up' },
      });
      expect(decision.json().decision).toBe('allow');
    });

    it('refuses unknown access roles and leaves the request waiting (one transaction)', async () => {
      const { requestId } = await register(t, { username: 'plc-3' });
      const res = await approve(requestId, { accessRoles: ['nope'] });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('access_role.unknown');
      expect(
        (await t.call('GET', `/api/v1/registry/requests/${requestId}`, { cookie: root })).json().status,
      ).toBe('pending');
      expect(await t.services.userReader.findRow('plc-3')).toBeUndefined();
      expect((await approve(requestId)).statusCode).toBe(200);
    });

    it('one of two racing approvals wins; the other gets 409 registry.request_decided', async () => {
      const { requestId } = await register(t, { username: 'plc-4' });
      const results = await Promise.all([approve(requestId), approve(requestId)]);
      expect(results.map((res) => res.statusCode).sort()).toEqual([200, 409]);
      expect(results.find((res) => res.statusCode === 409)?.json().code).toBe('registry.request_decided');
    });

    it('refuses approval when a user of that name was created meanwhile (409 user.exists)', async () => {
      const { requestId } = await register(t, { username: 'plc-5' });
      await t.createUser({ username: 'plc-5' });
      const res = await approve(requestId);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('user.exists');
      expect(
        (await t.call('GET', `/api/v1/registry/requests/${requestId}`, { cookie: root })).json().status,
      ).toBe('pending');
    });

    it('signs a CSR made by openssl at approval; the chain verifies with openssl; delivered once', async () => {
      const { dir, csrPem } = opensslCsr('plc-cert');
      try {
        const { requestId, pollSecret } = await register(t, { username: 'plc-cert', csr: csrPem });
        const seen = (await t.call('GET', `/api/v1/registry/requests/${requestId}`, { cookie: root })).json();
        expect(seen.hasCsr).toBe(true);
        const approved = await approve(requestId, { accessRoles: ['sensor'] });
        expect(approved.statusCode, approved.body).toBe(200);
        expect(approved.json().certificateSerial).toMatch(/^[0-9a-f]+$/);
        const delivered = (await poll(requestId, pollSecret)).json();
        expect(delivered.credentials).toEqual({
          username: 'plc-cert',
          certificatePem: expect.stringContaining('-----BEGIN CERTIFICATE-----'),
          chainPem: expect.stringContaining('-----BEGIN CERTIFICATE-----'),
        });
        expect(
          opensslVerify(dir, delivered.credentials.certificatePem, delivered.credentials.chainPem),
        ).toMatch(/: OK/);
        expect((await poll(requestId, pollSecret)).json()).toMatchObject({ credentialsDelivered: true });
        expect((await poll(requestId, pollSecret)).json().credentials).toBeUndefined();
        // A certificate device has no password.
        expect((await t.services.userReader.findRow('plc-cert'))?.password_hash).toBeNull();
        const issued = await t.services.audit.list({ action: 'certificate.issue' }, 1, 25);
        expect(issued.items[0]).toMatchObject({
          actor: { name: 'user:admin' },
          details: { username: 'plc-cert' },
        });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses a CSR whose CN is not the username before storing anything', async () => {
      const { dir, csrPem } = opensslCsr('someone-else');
      try {
        const res = await submit({ username: 'plc-cn', csr: csrPem });
        expect(res.statusCode).toBe(400);
        expect(res.json().code).toBe('certificate.csr_invalid');
        expect((await t.call('GET', '/api/v1/registry', { cookie: root })).json().pendingCount).toBe(0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('lets devices in from outside apiAllowFrom; administrators reading a request stay inside it', async () => {
    await unlock(60);
    const security = (await t.call('GET', '/api/v1/settings/security', { cookie: root })).json();
    const put = await t.call('PUT', '/api/v1/settings/security', {
      cookie: root,
      payload: { ...security, apiAllowFrom: ['127.0.0.1/32'] },
    });
    expect(put.statusCode, put.body).toBe(200);
    const { requestId, pollSecret } = await register(t, { username: 'plc-far' }, '203.0.113.77');
    expect((await poll(requestId, pollSecret)).json().status).toBe('pending');
    const admin = await t.app.inject({
      method: 'GET',
      url: `/api/v1/registry/requests/${requestId}`,
      remoteAddress: '203.0.113.77',
      headers: { cookie: root },
    });
    expect(admin.statusCode).toBe(403);
    expect(admin.json().code).toBe('request.ip_not_allowed');
  });
});
