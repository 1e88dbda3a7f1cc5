import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { PasswordHasher } from '../../src/core/crypto/password-hasher.js';
import { DomainEventBus } from '../../src/core/events.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { DEFAULT_SECURITY_SETTINGS } from '../../src/modules/settings/settings.schemas.js';
import { createServices, type Services, startServices } from '../../src/services.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../helpers/databases.js';
import { createTestContext, FAST_HASH, ROOT_PASSWORD, type TestContext } from '../helpers/test-app.js';

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
      mqtt: { denyAction: 'ignore' },
      apiAllowFrom: [],
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
      { ...DEFAULT_SECURITY_SETTINGS, mqtt: { denyAction: 'kick' } },
      { ...DEFAULT_SECURITY_SETTINGS, mqtt: { denyAction: 'disconnect', extra: 1 } },
      { ...DEFAULT_SECURITY_SETTINGS, mqtt: 'ignore' },
      { passwordPolicy: DEFAULT_SECURITY_SETTINGS.passwordPolicy },
    ];
    for (const payload of bad) {
      const res = await put(root, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().code).toBe('request.invalid');
      expect(res.json().errors.length).toBeGreaterThan(0);
    }
    const badAction = await put(root, { ...DEFAULT_SECURITY_SETTINGS, mqtt: { denyAction: 'kick' } });
    expect(badAction.json().errors).toEqual([expect.objectContaining({ pointer: '/body/mqtt/denyAction' })]);
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
    for (const document of [
      { ...DEFAULT_SECURITY_SETTINGS, absoluteSessionHours: 0 },
      { ...DEFAULT_SECURITY_SETTINGS, mqtt: { denyAction: 'kick' } },
    ])
      await expect(
        t.services.settings.putSecurity({ actor: { type: 'cli' }, ip: '', requestId: '' }, document),
      ).rejects.toMatchObject({ code: 'settings.invalid', status: 400 });
  });

  it('the deny action of the embedded broker: changed, audited, and cached for the broker at once', async () => {
    const next = { ...DEFAULT_SECURITY_SETTINGS, mqtt: { denyAction: 'disconnect' } };
    const res = await put(root, next);
    expect(res.statusCode).toBe(200);
    expect(res.json().mqtt).toEqual({ denyAction: 'disconnect' });
    expect(t.services.settings.cachedSecurity().mqtt.denyAction).toBe('disconnect');
    const [event] = (await t.services.audit.list({ action: 'settings.update' }, 1, 25)).items;
    expect(event?.details).toMatchObject({
      before: { mqtt: { denyAction: 'ignore' } },
      after: { mqtt: { denyAction: 'disconnect' } },
    });
  });

  it('a document without mqtt (an older client or script) is accepted and keeps the stored mqtt settings', async () => {
    await put(root, { ...DEFAULT_SECURITY_SETTINGS, mqtt: { denyAction: 'disconnect' } });
    const { mqtt: _left, ...older } = { ...DEFAULT_SECURITY_SETTINGS, maxConcurrentSessions: 3 };
    const res = await put(root, older);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ...older, mqtt: { denyAction: 'disconnect' } });
    expect(await t.services.settings.getSecurity()).toEqual({ ...older, mqtt: { denyAction: 'disconnect' } });
    expect(t.services.settings.cachedSecurity().mqtt.denyAction).toBe('disconnect');
    await put(root, DEFAULT_SECURITY_SETTINGS);
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
      const denyAction = await put(cookie, {
        ...DEFAULT_SECURITY_SETTINGS,
        mqtt: { denyAction: 'disconnect' },
      });
      expect(denyAction.statusCode, `${name} PUT mqtt`).toBe(403);
      // Everyone with a session may read the password policy (inline validation in the console).
      expect((await t.call('GET', '/api/v1/settings/password-policy', { cookie })).statusCode).toBe(200);
    }
    expect((await t.call('GET', '/api/v1/settings/security')).statusCode).toBe(401);
    expect((await t.services.settings.getSecurity()).maxConcurrentSessions).toBe(0);
    expect((await t.services.settings.getSecurity()).mqtt.denyAction).toBe('ignore');
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

describe.each(ENGINES)('security settings as stored and followed (%s)', (engine) => {
  let database: TestDatabase;
  const stops: Array<() => Promise<void>> = [];
  beforeEach(async () => {
    database = await createTestDatabase(engine);
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await database.destroy();
  });

  /** One Warden process on the test database: the CLI (not following) or a server (`serve`). */
  function open(): { services: Services; events: DomainEventBus } {
    const events = new DomainEventBus((error) => {
      throw error;
    });
    const services = createServices({
      db: database.db,
      engine: database.engine,
      clock: new ManualClock(Date.now()),
      hasher: new PasswordHasher({ params: FAST_HASH }),
      events,
      secretKey: randomBytes(32).toString('base64url'),
      ...(database.notifications ? { notifications: database.notifications } : {}),
      ...(database.locks ? { locks: database.locks } : {}),
    });
    return { services, events };
  }

  async function serve(): Promise<{ services: Services; events: DomainEventBus }> {
    const process = open();
    stops.push(await startServices(process.services));
    return process;
  }

  /** The stored document as a release before `mqtt` wrote it. */
  async function storeOlderDocument(change: object = {}): Promise<void> {
    const { mqtt: _absent, ...older } = { ...DEFAULT_SECURITY_SETTINGS, ...change };
    const value = JSON.stringify(older);
    await database.db
      .insertInto('settings')
      .values({ key: 'security', value, updated_at: Date.now() })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }

  it('a document stored before mqtt existed reads with its default, for the API and the broker', async () => {
    await storeOlderDocument({ maxConcurrentSessions: 2 });
    const server = await serve();
    const read = await server.services.settings.getSecurity();
    expect(read).toEqual({ ...DEFAULT_SECURITY_SETTINGS, maxConcurrentSessions: 2 });
    expect(server.services.settings.cachedSecurity()).toEqual(read);
  });

  it('the cached copy follows a change made by another process, and is read again after a feed reset', async () => {
    const server = await serve();
    expect(server.services.settings.cachedSecurity().mqtt.denyAction).toBe('ignore');
    const cli = open();
    await cli.services.settings.putSecurity(CLI_CONTEXT, {
      ...DEFAULT_SECURITY_SETTINGS,
      mqtt: { denyAction: 'disconnect' },
    });
    await vi.waitFor(
      () => expect(server.services.settings.cachedSecurity().mqtt.denyAction).toBe('disconnect'),
      { timeout: 5_000, interval: 20 },
    );
    // A change this process never heard of (as when it fell behind the pruned feed): only a reset finds it.
    await storeOlderDocument();
    expect(server.services.settings.cachedSecurity().mqtt.denyAction).toBe('disconnect');
    await server.events.emit('feed.reset', { reason: 'test' });
    expect(server.services.settings.cachedSecurity().mqtt.denyAction).toBe('ignore');
  });
});
