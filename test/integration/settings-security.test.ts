import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SECURITY_SETTINGS } from '../../src/modules/settings/settings.schemas.js';
import { createTestContext, ROOT_PASSWORD, type TestContext } from '../helpers/test-app.js';

describe('security settings', () => {
  let t: TestContext;
  let root: string;
  beforeEach(async () => {
    t = await createTestContext();
    root = await t.login('admin', ROOT_PASSWORD);
  });
  afterEach(() => t.close());

  const put = (cookie: string, payload: object) =>
    t.call('PUT', '/api/v1/settings/security', { cookie, payload });

  it('ship the documented defaults', async () => {
    const res = await t.call('GET', '/api/v1/settings/security', { cookie: root });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      passwordPolicy: {
        minLength: 8,
        requireUppercase: true,
        requireLowercase: true,
        requireDigit: true,
        requireSpecial: true,
        maxAgeDays: 0,
        historyCount: 0,
      },
      throttle: { maxAttemptsPerAccount: 10, maxAttemptsPerIp: 100, windowMinutes: 15 },
      mfaRequiredRoles: [],
      defaultSessionTimeoutMinutes: 30,
      absoluteSessionHours: 12,
      maxConcurrentSessions: 0,
    });
  });

  it('a change is stored, takes effect, and is audited with before and after', async () => {
    const next = {
      ...DEFAULT_SECURITY_SETTINGS,
      passwordPolicy: { ...DEFAULT_SECURITY_SETTINGS.passwordPolicy, minLength: 12 },
      mfaRequiredRoles: ['admin'],
    };
    const res = await put(root, next);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(next);
    expect((await t.call('GET', '/api/v1/settings/security', { cookie: root })).json()).toEqual(next);
    expect((await t.call('GET', '/api/v1/settings/password-policy', { cookie: root })).json().minLength).toBe(
      12,
    );

    const [event] = (await t.services.audit.list({ action: 'settings.update' }, 1, 25)).items;
    expect(event).toMatchObject({
      actor: { type: 'user', name: 'user:admin' },
      target: 'settings:security',
      outcome: 'success',
      details: {
        before: { passwordPolicy: { minLength: 8 }, mfaRequiredRoles: [] },
        after: { passwordPolicy: { minLength: 12 }, mfaRequiredRoles: ['admin'] },
      },
    });
    // The new policy applies to the very next password.
    const weak = await t.call('POST', '/api/v1/users', {
      cookie: root,
      payload: { username: 'newbie', password: 'Sh0rt-pass!', role: 'viewer' },
    });
    expect(weak.json().errors.map((e: { rule: string }) => e.rule)).toEqual(['min_length']);
  });

  it('invalid documents are refused with 400 and one entry per problem; nothing changes', async () => {
    const bad = [
      {
        ...DEFAULT_SECURITY_SETTINGS,
        passwordPolicy: { ...DEFAULT_SECURITY_SETTINGS.passwordPolicy, minLength: 0 },
      },
      {
        ...DEFAULT_SECURITY_SETTINGS,
        passwordPolicy: { ...DEFAULT_SECURITY_SETTINGS.passwordPolicy, minLength: 129 },
      },
      { ...DEFAULT_SECURITY_SETTINGS, mfaRequiredRoles: ['root'] },
      { ...DEFAULT_SECURITY_SETTINGS, mfaRequiredRoles: ['admin', 'admin'] },
      { ...DEFAULT_SECURITY_SETTINGS, defaultSessionTimeoutMinutes: 0 },
      { ...DEFAULT_SECURITY_SETTINGS, maxConcurrentSessions: -1 },
      {
        ...DEFAULT_SECURITY_SETTINGS,
        throttle: { ...DEFAULT_SECURITY_SETTINGS.throttle, windowMinutes: 'soon' },
      },
      { ...DEFAULT_SECURITY_SETTINGS, surprise: true },
      { passwordPolicy: DEFAULT_SECURITY_SETTINGS.passwordPolicy },
    ];
    for (const payload of bad) {
      const res = await put(root, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().errors.length).toBeGreaterThan(0);
    }
    const twoProblems = await put(root, {
      ...DEFAULT_SECURITY_SETTINGS,
      defaultSessionTimeoutMinutes: 0,
      absoluteSessionHours: 0,
    });
    expect(twoProblems.json().errors.length).toBeGreaterThanOrEqual(2);
    expect((await t.services.audit.list({ action: 'settings.update' }, 1, 25)).total).toBe(0);
    expect(await t.services.settings.getSecurity()).toEqual(DEFAULT_SECURITY_SETTINGS);
  });

  it('the service validates through the same schema (what the CLI uses): settings.invalid', async () => {
    await expect(
      t.services.settings.putSecurity(
        { actor: { type: 'cli' }, ip: '', requestId: '' },
        { ...DEFAULT_SECURITY_SETTINGS, absoluteSessionHours: 0 },
      ),
    ).rejects.toMatchObject({ code: 'settings.invalid', status: 400 });
  });

  it('needs system_config: viewers, operators and admins without the scope are refused', async () => {
    await t.createUser({ username: 'vera', role: 'viewer' });
    await t.createUser({ username: 'otto', role: 'operator' });
    await t.createUser({ username: 'ursula', role: 'admin', scopes: ['user_management', 'log_management'] });
    for (const name of ['vera', 'otto', 'ursula']) {
      const cookie = await t.login(name);
      const read = await t.call('GET', '/api/v1/settings/security', { cookie });
      expect(read.statusCode, `${name} GET`).toBe(403);
      const write = await put(cookie, { ...DEFAULT_SECURITY_SETTINGS, maxConcurrentSessions: 1 });
      expect(write.statusCode, `${name} PUT`).toBe(403);
      expect(write.json().code).toBe('auth.forbidden');
      // Everyone with a session may read the password policy (inline validation in the console).
      expect((await t.call('GET', '/api/v1/settings/password-policy', { cookie })).statusCode).toBe(200);
    }
    expect((await t.call('GET', '/api/v1/settings/security')).statusCode).toBe(401);
    expect((await t.services.settings.getSecurity()).maxConcurrentSessions).toBe(0);
  });

  it('refuses a cross-site change', async () => {
    const res = await t.call('PUT', '/api/v1/settings/security', {
      cookie: root,
      payload: { ...DEFAULT_SECURITY_SETTINGS, maxConcurrentSessions: 1 },
      headers: { origin: 'https://evil.example' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('auth.cross_site');
  });
});
