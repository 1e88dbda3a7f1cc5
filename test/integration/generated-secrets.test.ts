import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recognizeGeneratedSecret } from '../../src/core/crypto/generated-secret.js';
import { KEYED_HASH_PREFIX } from '../../src/core/crypto/keyed-secret-hash.js';
import type { MqttAuthResult } from '../../src/modules/mqtt/mqtt-auth.service.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { DEFAULT_SECURITY_SETTINGS } from '../../src/modules/settings/settings.schemas.js';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, ROOT_PASSWORD, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

const OTHER_PASSWORD = 'An0ther-Passw0rd!';

/**
 * Generated secrets of devices and services (docs/authentication.md#generated-secrets): which paths store the
 * keyed fast hash and which argon2id, secret rotation with and without a grace period, who may rotate, and what
 * the audit log and the change feed say. MQTT authentication is asked through the service every broker uses
 * (`mqttAuth`); the embedded broker's side is in test/e2e/embedded-broker-secrets.e2e.test.ts.
 */
describe.each(ENGINES)('generated secrets and their rotation (%s)', (engine) => {
  let t: TestContext;
  let root: string;

  beforeAll(async () => {
    t = await createTestContext({ engine });
  });
  // Tests move the clock past sessions' idle timeout.
  beforeEach(async () => {
    root = await t.login('admin', ROOT_PASSWORD);
  });
  afterAll(() => t.close());

  async function stored(username: string) {
    return t.database.db
      .selectFrom('users')
      .select(['password_hash', 'password_origin', 'previous_password_hash', 'previous_valid_until'])
      .where('username_lower', '=', username.toLowerCase())
      .executeTakeFirstOrThrow();
  }

  async function scheme(username: string): Promise<'keyed' | 'argon2id' | null> {
    const { password_hash: hash } = await stored(username);
    return hash === null ? null : t.services.credentials.schemeOf(hash);
  }

  function mqttLogin(username: string, password: string): Promise<MqttAuthResult> {
    return t.services.mqttAuth.authenticate({
      username,
      password: Buffer.from(password),
      clientId: `${username}-test`,
      ip: '192.0.2.10',
    });
  }

  async function createGenerated(username: string, kind: 'device' | 'service' | 'person'): Promise<string> {
    const res = await t.call('POST', '/api/v1/users', {
      cookie: root,
      payload: { username, role: 'viewer', kind },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().generatedPassword as string;
  }

  async function rotate(username: string, payload: object = {}, cookie = root) {
    return t.call('POST', `/api/v1/users/${username}/secret`, { cookie, payload });
  }

  describe('what is stored how', () => {
    it.each(['device', 'service'] as const)(
      'a %s created without a password gets a generated secret under the keyed hash, answered once',
      async (kind) => {
        const secret = await createGenerated(`gen-${kind}`, kind);
        expect(recognizeGeneratedSecret(secret)).toBe(secret);
        const row = await stored(`gen-${kind}`);
        expect(row.password_hash?.startsWith(KEYED_HASH_PREFIX)).toBe(true);
        expect(row.password_origin).toBe('generated');
        expect(await t.services.credentials.verify(row.password_hash as string, secret)).toBe(true);
        const user = await t.call('GET', `/api/v1/users/gen-${kind}`, { cookie: root });
        expect(user.json()).toMatchObject({ kind, mustChangePassword: false });
        expect(user.json()).not.toHaveProperty('generatedPassword');
        const audit = await t.services.audit.list({ target: `user:gen-${kind}` }, 1, 100);
        expect(JSON.stringify(audit)).not.toContain(secret);
        expect((await mqttLogin(`gen-${kind}`, secret)).ok).toBe(true);
      },
    );

    it('a person created without a password gets a one-time password under argon2id, changed at first login', async () => {
      const password = await createGenerated('gen-person', 'person');
      expect(await scheme('gen-person')).toBe('argon2id');
      expect((await stored('gen-person')).password_origin).toBe('generated');
      const login = await t.call('POST', '/api/v1/auth/login', {
        payload: { username: 'gen-person', password },
      });
      expect(login.json().next).toBe('password_change');
    });

    it('every password a person types stays argon2id, for every kind of user and on every path', async () => {
      // Creation with a password, for a device too.
      for (const [username, kind] of [
        ['typed-device', 'device'],
        ['typed-person', 'person'],
      ] as const) {
        const res = await t.call('POST', '/api/v1/users', {
          cookie: root,
          payload: { username, password: STRONG_PASSWORD, role: 'viewer', kind },
        });
        expect(res.statusCode).toBe(201);
        expect(res.json()).not.toHaveProperty('generatedPassword');
        expect(await scheme(username)).toBe('argon2id');
        expect((await stored(username)).password_origin).toBe('chosen');
      }
      // An admin's reset, also of a device whose secret was generated.
      const secret = await createGenerated('reset-device', 'device');
      for (const username of ['reset-device', 'typed-person']) {
        const res = await t.call('PUT', `/api/v1/users/${username}/password`, {
          cookie: root,
          payload: { password: OTHER_PASSWORD },
        });
        expect(res.statusCode).toBe(204);
        expect(await scheme(username)).toBe('argon2id');
        expect((await stored(username)).password_origin).toBe('chosen');
      }
      expect((await mqttLogin('reset-device', secret)).ok).toBe(false);
      expect((await mqttLogin('reset-device', OTHER_PASSWORD)).ok).toBe(true);
      // One's own change.
      const own = await t.login('typed-person', OTHER_PASSWORD);
      const change = await t.call('PUT', '/api/v1/me/password', {
        cookie: own,
        payload: { currentPassword: OTHER_PASSWORD, password: STRONG_PASSWORD },
      });
      expect(change.statusCode).toBe(200);
      expect(await scheme('typed-person')).toBe('argon2id');
      expect((await stored('typed-person')).password_origin).toBe('chosen');
      // Break-glass: a generated password, but a person's.
      const recovered = await t.services.users.recoverRoot(CLI_CONTEXT);
      expect(await scheme('admin')).toBe('argon2id');
      root = await t.login('admin', recovered.password);
      const back = await t.call('PUT', '/api/v1/me/password', {
        cookie: root,
        payload: { currentPassword: recovered.password, password: ROOT_PASSWORD },
      });
      expect(back.statusCode).toBe(200);
    });

    it('the password policy governs chosen passwords only', async () => {
      await t.services.settings.putSecurity(CLI_CONTEXT, {
        ...DEFAULT_SECURITY_SETTINGS,
        passwordPolicy: { ...DEFAULT_SECURITY_SETTINGS.passwordPolicy, minLength: 40 },
      });
      try {
        await createGenerated('long-policy-device', 'device');
        const typed = await t.call('POST', '/api/v1/users', {
          cookie: root,
          payload: { username: 'short-typed', password: STRONG_PASSWORD, role: 'viewer', kind: 'device' },
        });
        expect(typed.statusCode).toBe(400);
        expect(typed.json().code).toBe('password.policy');
      } finally {
        await t.services.settings.putSecurity(CLI_CONTEXT, DEFAULT_SECURITY_SETTINGS);
      }
    });
  });

  describe('rotation', () => {
    it('gives a new generated secret, answered once; without a grace period the previous one stops at once', async () => {
      const first = await createGenerated('rot-now', 'device');
      expect((await mqttLogin('rot-now', first)).ok).toBe(true); // cached from here on
      const res = await rotate('rot-now');
      expect(res.statusCode).toBe(200);
      const { secret, previousSecretValidUntil } = res.json();
      expect(previousSecretValidUntil).toBeNull();
      expect(recognizeGeneratedSecret(secret)).toBe(secret);
      expect(await scheme('rot-now')).toBe('keyed');
      expect(await stored('rot-now')).toMatchObject({
        previous_password_hash: null,
        previous_valid_until: null,
      });
      expect(await mqttLogin('rot-now', first)).toMatchObject({ ok: false, reason: 'bad_credentials' });
      expect(await mqttLogin('rot-now', secret)).toMatchObject({ ok: true, validUntil: null });
    });

    it('with a grace period the previous secret is accepted until it ends, the new one at once', async () => {
      const first = await createGenerated('rot-grace', 'device');
      const res = await rotate('rot-grace', { graceMinutes: 30 });
      expect(res.statusCode).toBe(200);
      const { secret, previousSecretValidUntil } = res.json();
      const end = t.clock.now() + 30 * 60_000;
      expect(previousSecretValidUntil).toBe(new Date(end).toISOString());
      expect(await stored('rot-grace')).toMatchObject({ previous_valid_until: end });
      expect(await mqttLogin('rot-grace', secret)).toMatchObject({ ok: true, validUntil: null });
      expect(await mqttLogin('rot-grace', first)).toMatchObject({ ok: true, validUntil: end });
      t.clock.advance(29 * 60_000);
      expect(await mqttLogin('rot-grace', first)).toMatchObject({ ok: true, validUntil: end });
      t.clock.advance(60_000);
      // Also not from the credential cache, which answered it a minute ago.
      expect(await mqttLogin('rot-grace', first)).toMatchObject({ ok: false, reason: 'bad_credentials' });
      expect((await mqttLogin('rot-grace', secret)).ok).toBe(true);
    });

    it('keeps one previous secret: a second rotation ends the first grace period of the oldest', async () => {
      const first = await createGenerated('rot-twice', 'device');
      const second = (await rotate('rot-twice', { graceMinutes: 60 })).json().secret as string;
      const third = (await rotate('rot-twice', { graceMinutes: 60 })).json().secret as string;
      expect((await mqttLogin('rot-twice', first)).ok).toBe(false);
      expect((await mqttLogin('rot-twice', second)).ok).toBe(true);
      expect((await mqttLogin('rot-twice', third)).ok).toBe(true);
    });

    it('a password reset ends a grace period', async () => {
      const first = await createGenerated('rot-reset', 'device');
      await rotate('rot-reset', { graceMinutes: 60 });
      await t.services.users.setPassword(CLI_CONTEXT, 'rot-reset', OTHER_PASSWORD);
      expect(await stored('rot-reset')).toMatchObject({
        previous_password_hash: null,
        previous_valid_until: null,
      });
      expect((await mqttLogin('rot-reset', first)).ok).toBe(false);
    });

    it('is audited as user.secret_rotate with the grace period, never the secret, and recorded as a password change', async () => {
      await createGenerated('rot-audit', 'service');
      const res = await rotate('rot-audit', { graceMinutes: 15 });
      const { secret } = res.json();
      const audit = await t.services.audit.list(
        { action: 'user.secret_rotate', target: 'user:rot-audit' },
        1,
        10,
      );
      expect(audit.items).toHaveLength(1);
      expect(audit.items[0]).toMatchObject({
        outcome: 'success',
        actor: { name: 'user:admin' },
        details: { graceMinutes: 15, graceUntil: new Date(t.clock.now() + 15 * 60_000).toISOString() },
      });
      const everything = await t.services.audit.list({}, 1, 250);
      expect(JSON.stringify(everything)).not.toContain(secret);
      const change = await t.database.db
        .selectFrom('change_feed')
        .select('payload')
        .where('kind', '=', 'user.changed')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      expect(JSON.parse(change.payload)).toMatchObject({
        username: 'rot-audit',
        change: 'password',
        graceUntil: t.clock.now() + 15 * 60_000,
      });
      expect(change.payload).not.toContain(secret);
    });

    it('is refused for a person with 409 user.not_machine, audited, the password unchanged', async () => {
      await t.createUser({ username: 'rot-person', role: 'viewer' });
      const before = await stored('rot-person');
      const res = await rotate('rot-person', { graceMinutes: 5 });
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('user.not_machine');
      expect(await stored('rot-person')).toEqual(before);
      const audit = await t.services.audit.list(
        { action: 'user.secret_rotate', target: 'user:rot-person' },
        1,
        10,
      );
      expect(audit.items[0]).toMatchObject({ outcome: 'failure' });
    });

    it('is refused to a caller who may not act on the target, or may not manage users at all', async () => {
      // A device holding more than the keeper does: acting on it is acting on someone who outranks the keeper.
      await t.createUser({ username: 'rot-strong', role: 'admin', kind: 'device' });
      await t.createUser({ username: 'rot-keeper', role: 'admin', scopes: ['user_management'] });
      await t.createUser({ username: 'rot-viewer', role: 'viewer', scopes: ['log_management'] });
      await t.createUser({ username: 'rot-weak', role: 'viewer', kind: 'device' });
      const keeper = await t.login('rot-keeper');
      const viewer = await t.login('rot-viewer');
      const before = await stored('rot-strong');
      const outranked = await rotate('rot-strong', {}, keeper);
      expect(outranked.statusCode).toBe(403);
      expect(outranked.json()).toMatchObject({
        code: 'auth.target_forbidden',
        denial: { reason: 'target', target: 'rot-strong', why: 'outranks' },
      });
      expect(await stored('rot-strong')).toEqual(before);
      const unscoped = await rotate('rot-weak', {}, viewer);
      expect(unscoped.statusCode).toBe(403);
      expect((await rotate('rot-weak', {}, keeper)).statusCode).toBe(200);
    });

    it.each([
      ['above a week', { graceMinutes: 10_081 }],
      ['negative', { graceMinutes: -1 }],
      ['fractional', { graceMinutes: 1.5 }],
      ['unknown field', { secret: 'mine' }],
    ])('refuses a grace period %s with 400 request.invalid', async (_name, payload) => {
      await createGenerated(`rot-bad-${_name.split(' ')[0]}`, 'device');
      const res = await rotate(`rot-bad-${_name.split(' ')[0]}`, payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('request.invalid');
    });

    it('answers 404 user.not_found for an unknown user', async () => {
      const res = await rotate('nobody-here');
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('user.not_found');
    });
  });
});
