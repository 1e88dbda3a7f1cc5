import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { CredentialHasher } from '../../src/core/crypto/credential-hasher.js';
import { generateOpaqueSecret } from '../../src/core/crypto/generated-secret.js';
import { PasswordHasher } from '../../src/core/crypto/password-hasher.js';
import { createSecretBox } from '../../src/core/crypto/secret-box.js';
import { sha256Hex } from '../../src/core/crypto/tokens.js';
import { DomainEventBus } from '../../src/core/events.js';
import { migrateToLatest } from '../../src/db/database.js';
import { API_KEY, API_KEY_SECRET_BYTES } from '../../src/modules/api-keys/api-key-token.js';
import { hashRecoveryCode, newTotpKey, totpCodeAt, totpStep } from '../../src/modules/mfa/mfa.crypto.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { createServices, type Services, startServices } from '../../src/services.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../helpers/databases.js';
import { FAST_HASH } from '../helpers/test-app.js';

/**
 * Upgrades keep everything: a database written by the previous release (schema up to migration 004, its MFA
 * state in `users`) is migrated forward and served unchanged — password hashes, sealed TOTP secrets and their
 * single use, recovery codes, the must-enrol duty, sessions, access rules, settings, a broker integration's
 * sealed secret, and the audit log. A device password that release generated moves to the keyed hash at its
 * first MQTT login (migration 008 left its origin unrecorded); a typed one stays argon2id.
 */
const PREVIOUS_RELEASE = '004-brokers';
const PASSWORD = 'Old-Release-Passw0rd!';
/** What the previous release's `warden users create … --kind device` printed: the generator's form. */
const GENERATED_BY_OLD_RELEASE = 'kQ7mZp3XcV9wRt2LhN8bGy#7';
const META = { ip: '192.0.2.7', userAgent: 'upgrade-test' };

interface OldRelease {
  readonly key: string;
  readonly totpKey: Uint8Array;
  readonly recoveryCode: string;
  readonly sessionToken: string;
  readonly now: number;
}

/** Rows exactly as release 0.1 wrote them, through its schema (no code of this release involved). */
async function writePreviousRelease(database: TestDatabase): Promise<OldRelease> {
  // biome-ignore lint/suspicious/noExplicitAny: the previous release's schema is not this release's types.
  const db = database.db as unknown as Kysely<any>;
  const key = randomBytes(32).toString('base64url');
  const box = createSecretBox(key);
  const hasher = new PasswordHasher({ params: FAST_HASH });
  const hash = await hasher.hash(PASSWORD);
  const now = Date.now();
  const ids = {
    root: randomUUID(),
    bob: randomUUID(),
    carol: randomUUID(),
    dev: randomUUID(),
    gen: randomUUID(),
    eve: randomUUID(),
  };
  const totpKey = newTotpKey();
  const user = (id: string, username: string, extra: Record<string, unknown> = {}) => ({
    id,
    username,
    username_lower: username.toLowerCase(),
    email: null,
    email_lower: null,
    description: '',
    kind: 'person',
    role: 'viewer',
    scopes: '[]',
    active: 1,
    protected: 0,
    auth_method: 'local',
    password_hash: hash,
    password_changed_at: now,
    must_change_password: 0,
    mfa_enabled: 0,
    mfa_enroll_required: 0,
    totp_secret: null,
    totp_last_step: null,
    session_timeout_minutes: 0,
    last_login_at: null,
    created_at: now - 86_400_000,
    updated_at: now - 86_400_000,
    version: 1,
    ...extra,
  });
  const allScopes = JSON.stringify([
    'system_config',
    'asset_management',
    'user_management',
    'log_management',
    'api_key_management',
    'sso_management',
  ]);
  await db
    .insertInto('users')
    .values([
      user(ids.root, 'admin', { role: 'admin', scopes: allScopes, protected: 1 }),
      user(ids.bob, 'bob', {
        role: 'operator',
        scopes: '["asset_management","log_management"]',
        mfa_enabled: 1,
        totp_secret: box.seal(totpKey, `totp:${ids.bob}`),
        totp_last_step: totpStep(now),
      }),
      user(ids.carol, 'carol', { mfa_enroll_required: 1 }),
      user(ids.dev, 'plc-01', { kind: 'device', session_timeout_minutes: 90 }),
      user(ids.gen, 'plc-02', { kind: 'device', password_hash: await hasher.hash(GENERATED_BY_OLD_RELEASE) }),
      user(ids.eve, 'eve', { mfa_enabled: 1, totp_secret: box.seal(totpKey, `totp:${ids.eve}`) }),
    ])
    .execute();
  const recoveryCode = 'abcde-fghij';
  await db
    .insertInto('recovery_codes')
    .values({ id: randomUUID(), user_id: ids.eve, code_hash: hashRecoveryCode(recoveryCode), used_at: null })
    .execute();
  await db
    .insertInto('password_history')
    .values({ id: randomUUID(), user_id: ids.bob, password_hash: hash, created_at: now })
    .execute();
  const roleId = randomUUID();
  await db
    .insertInto('access_roles')
    .values({
      id: roleId,
      name: 'sensor',
      name_lower: 'sensor',
      description: 'field sensors',
      rules: JSON.stringify([{ permission: 'allow', action: 'publish', topic: 'dt/${username}/up' }]),
      version: 3,
      created_at: now,
      updated_at: now,
    })
    .execute();
  await db
    .insertInto('user_access_roles')
    .values({ user_id: ids.dev, role_id: roleId, position: 0 })
    .execute();
  const security = {
    passwordPolicy: {
      minLength: 12,
      requireUppercase: true,
      requireLowercase: true,
      requireDigit: true,
      requireSpecial: true,
      maxAgeDays: 0,
      historyCount: 2,
    },
    throttle: { maxAttemptsPerAccount: 10, maxAttemptsPerIp: 100, windowMinutes: 15 },
    mfaRequiredRoles: [],
    defaultSessionTimeoutMinutes: 45,
    absoluteSessionHours: 12,
    maxConcurrentSessions: 0,
  };
  await db
    .insertInto('settings')
    .values({ key: 'security', value: JSON.stringify(security), updated_at: now })
    .execute();
  const integrationId = randomUUID();
  await db
    .insertInto('broker_integrations')
    .values({
      id: integrationId,
      name: 'plant-mosquitto',
      name_lower: 'plant-mosquitto',
      kind: 'mosquitto',
      enabled: 0,
      config: JSON.stringify({
        url: 'mqtt://127.0.0.1:1',
        adminUsername: 'dynsec-admin',
        adminPassword: box.seal(Buffer.from('Dynsec-Adm1n!'), `broker:${integrationId}:adminPassword`),
        clientIdBinding: 'username',
        timeoutMs: 2000,
        rejectUnauthorized: true,
      }),
      version: 2,
      last_sync_at: now,
      last_sync_changes: 4,
      last_error: null,
      last_error_at: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  const sessionId = 'old-session-id-0001';
  const secret = randomBytes(32).toString('base64url');
  await db
    .insertInto('sessions')
    .values({
      id: sessionId,
      token_hash: sha256Hex(secret),
      user_id: ids.root,
      stage: 'active',
      created_at: now,
      last_seen_at: now,
      expires_at: now + 3_600_000,
      ip: META.ip,
      user_agent: META.userAgent,
    })
    .execute();
  await db
    .insertInto('audit_events')
    .values({
      at: now - 1000,
      actor_type: 'system',
      actor_name: 'system',
      action: 'user.create',
      target: 'user:admin',
      outcome: 'success',
      ip: '',
      request_id: '',
      details: JSON.stringify({ after: { username: 'admin' } }),
    })
    .execute();
  return { key, totpKey, recoveryCode, sessionToken: `${sessionId}.${secret}`, now };
}

describe.each(ENGINES)('upgrade from the previous release (%s)', (engine) => {
  let database: TestDatabase | undefined;
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    await database?.destroy();
  });

  it('serves every kind of data the previous release wrote, unchanged', async () => {
    database = await createTestDatabase(engine, { upTo: PREVIOUS_RELEASE });
    const old = await writePreviousRelease(database);
    await migrateToLatest(database.db);

    const clock = new ManualClock(old.now);
    const services: Services = createServices({
      db: database.db,
      engine: database.engine,
      clock,
      hasher: new PasswordHasher({ params: FAST_HASH }),
      events: new DomainEventBus((error) => {
        throw error;
      }),
      secretKey: old.key,
    });
    stop = await startServices(services);

    // The session issued before the upgrade still works.
    expect((await services.sessions.resolve(old.sessionToken))?.actor.username).toBe('admin');

    // Password hash and sealed TOTP secret: login asks for the code; the step used before is still used.
    const login = await services.auth.login(META, 'r1', 'bob', PASSWORD);
    expect(login.next).toBe('mfa');
    const pending = await services.sessions.resolve(login.token);
    if (!pending) throw new Error('no pending session');
    const ctx = { actor: pending.actor, ip: META.ip, requestId: 'r2' };
    const replay = totpCodeAt(old.totpKey, totpStep(old.now));
    await expect(services.auth.completeMfa(ctx, pending, { code: replay })).rejects.toMatchObject({
      code: 'auth.invalid_code',
    });
    clock.advance(30_000);
    const fresh = totpCodeAt(old.totpKey, totpStep(clock.now()));
    expect((await services.auth.completeMfa(ctx, pending, { code: fresh })).next).toBeNull();

    // Recovery codes and the duty to enrol survive.
    const eve = await services.auth.login(META, 'r3', 'eve', PASSWORD);
    const evePending = await services.sessions.resolve(eve.token);
    if (!evePending) throw new Error('no pending session');
    const done = await services.auth.completeMfa(
      { actor: evePending.actor, ip: META.ip, requestId: 'r4' },
      evePending,
      { recoveryCode: old.recoveryCode },
    );
    expect(done.next).toBeNull();
    expect((await services.auth.login(META, 'r5', 'carol', PASSWORD)).next).toBe('mfa_enroll');

    // The directory shows the same users, MFA state included.
    const users = await services.users.list({ includeInactive: true, pageSize: 25 });
    expect(users.items.map((u) => [u.username, u.mfaEnabled, u.sessionTimeoutMinutes])).toEqual([
      ['admin', false, 0],
      ['bob', true, 0],
      ['carol', false, 0],
      ['eve', true, 0],
      ['plc-01', false, 90],
      ['plc-02', false, 0],
    ]);
    expect(users.items.find((u) => u.username === 'plc-01')?.accessRoles).toEqual(['sensor']);

    // Access rules decide as before.
    const explained = await services.access.explain({
      username: 'plc-01',
      action: 'publish',
      topic: 'dt/plc-01/up',
    });
    expect(explained).toMatchObject({ decision: 'allow', role: 'sensor' });

    // Settings: the stored policy, not the defaults; the history kept before counts.
    const security = await services.settings.getSecurity();
    expect(security.passwordPolicy).toMatchObject({ minLength: 12, historyCount: 2 });
    expect(security.defaultSessionTimeoutMinutes).toBe(45);
    // Added later (migration 010's release): the management API answers every address until one is set.
    expect(security.apiAllowFrom).toEqual([]);

    // Scrape tokens (migration 010): a new table that works on the upgraded schema.
    const scrape = await services.scrapeTokens.create(CLI_CONTEXT, { name: 'prometheus' });
    expect(await services.scrapeTokens.authenticate(scrape.secret)).toBe(true);
    await services.scrapeTokens.remove(CLI_CONTEXT, scrape.token.id);
    expect(await services.scrapeTokens.authenticate(scrape.secret)).toBe(false);

    // The broker integration: settings as stored, its sealed admin password still opens.
    expect(await services.brokers.get('plant-mosquitto')).toMatchObject({
      enabled: false,
      config: { clientIdBinding: 'username', timeoutMs: 2000 },
      secrets: ['adminPassword'],
      version: 2,
    });
    const exported = await services.brokers.exportDynsec('plant-mosquitto');
    expect(JSON.stringify(exported)).toContain('dynsec-admin');

    // The audit log keeps the earlier events.
    const audit = await services.audit.list({ action: 'user.create' }, 1, 25);
    expect(audit.items.at(-1)).toMatchObject({ actor: { name: 'system' }, target: 'user:admin' });

    // Device passwords: the generated one moves to the keyed hash at its first MQTT login, the typed one stays.
    const mqttLogin = (username: string, password: string) =>
      services.mqttAuth.authenticate({
        username,
        password: Buffer.from(password),
        clientId: username,
        ip: META.ip,
      });
    const record = (username: string) =>
      database?.db
        .selectFrom('users')
        .select(['password_hash', 'password_origin', 'previous_password_hash', 'previous_valid_until'])
        .where('username', '=', username)
        .executeTakeFirstOrThrow();
    expect(await record('plc-02')).toMatchObject({
      password_origin: null,
      previous_password_hash: null,
      previous_valid_until: null,
    });
    expect((await mqttLogin('plc-01', PASSWORD)).ok).toBe(true);
    expect((await mqttLogin('plc-02', GENERATED_BY_OLD_RELEASE)).ok).toBe(true);
    const typed = await record('plc-01');
    expect(services.credentials.schemeOf(typed?.password_hash as string)).toBe('argon2id');
    expect(typed?.password_origin).toBeNull();
    const generated = await record('plc-02');
    expect(services.credentials.schemeOf(generated?.password_hash as string)).toBe('keyed');
    expect(generated?.password_origin).toBe('generated');
    expect(
      await services.credentials.verify(generated?.password_hash as string, GENERATED_BY_OLD_RELEASE),
    ).toBe(true);

    // And the root can still be managed: a write through this release.
    await services.users.update(CLI_CONTEXT, 'bob', { description: 'upgraded' });
  });

  it('adds API keys to a database of release 008: its users own keys, deleting one deletes them', async () => {
    database = await createTestDatabase(engine, { upTo: '008-user-secrets' });
    // biome-ignore lint/suspicious/noExplicitAny: the previous release's schema is not this release's types.
    const db = database.db as unknown as Kysely<any>;
    const now = Date.now();
    const hash = await new PasswordHasher({ params: FAST_HASH }).hash(PASSWORD);
    await db
      .insertInto('users')
      .values({
        id: randomUUID(),
        username: 'svc-etl',
        username_lower: 'svc-etl',
        kind: 'service',
        role: 'operator',
        scopes: '["asset_management"]',
        active: 1,
        password_hash: hash,
        password_origin: 'chosen',
        created_at: now,
        updated_at: now,
      })
      .execute();
    await migrateToLatest(database.db);
    const services = createServices({
      db: database.db,
      engine: database.engine,
      clock: new ManualClock(now),
      hasher: new PasswordHasher({ params: FAST_HASH }),
      events: new DomainEventBus((error) => {
        throw error;
      }),
      secretKey: randomBytes(32).toString('base64url'),
    });
    const created = await services.apiKeys.create(CLI_CONTEXT, {
      name: 'etl',
      owner: 'svc-etl',
      role: 'operator',
      scopes: ['asset_management'],
    });
    expect(await services.apiKeys.authenticate(created.key, META.ip)).toMatchObject({
      type: 'apikey',
      username: 'svc-etl',
      role: 'operator',
      scopes: ['asset_management'],
    });
    await services.users.remove(CLI_CONTEXT, 'svc-etl');
    expect((await services.apiKeys.list({})).total).toBe(0);
  });
});

describe.each(ENGINES)('upgrade from release 010 (%s)', (engine) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.destroy();
  });

  it('keeps its API keys and users; SSO providers, the registry and the CA work on the upgraded schema', async () => {
    database = await createTestDatabase(engine, { upTo: '010-scrape-tokens' });
    // biome-ignore lint/suspicious/noExplicitAny: the previous release's schema is not this release's types.
    const db = database.db as unknown as Kysely<any>;
    const key = randomBytes(32).toString('base64url');
    const passwords = new PasswordHasher({ params: FAST_HASH });
    const now = Date.now();
    const ownerId = randomUUID();
    await db
      .insertInto('users')
      .values({
        id: ownerId,
        username: 'svc-etl',
        username_lower: 'svc-etl',
        email: 'etl@example.com',
        email_lower: 'etl@example.com',
        kind: 'service',
        role: 'operator',
        scopes: '["asset_management"]',
        active: 1,
        password_hash: await passwords.hash(PASSWORD),
        password_origin: 'chosen',
        created_at: now,
        updated_at: now,
      })
      .execute();
    // An API key exactly as release 010 stored it: the keyed hash of its secret part.
    const secret = generateOpaqueSecret(API_KEY_SECRET_BYTES);
    const issued = API_KEY.issue(secret);
    await db
      .insertInto('api_keys')
      .values({
        id: issued.id,
        name: 'etl',
        owner_id: ownerId,
        role: 'operator',
        scopes: '["asset_management"]',
        secret_hash: new CredentialHasher(passwords, key).hashGenerated(secret),
        created_at: now,
        created_by: 'cli',
        updated_at: now,
      })
      .execute();
    await migrateToLatest(database.db);

    const services = createServices({
      db: database.db,
      engine: database.engine,
      clock: new ManualClock(now),
      hasher: passwords,
      events: new DomainEventBus((error) => {
        throw error;
      }),
      secretKey: key,
    });
    expect(await services.apiKeys.authenticate(issued.token, META.ip)).toMatchObject({
      type: 'apikey',
      username: 'svc-etl',
    });
    expect(await services.users.get('svc-etl')).toMatchObject({ authMethod: 'local', kind: 'service' });
    expect(
      (
        await services.mqttAuth.authenticate({
          username: 'svc-etl',
          password: Buffer.from(PASSWORD),
          clientId: 'etl',
          ip: META.ip,
        })
      ).ok,
    ).toBe(true);

    // The new tables are there and work.
    expect(await services.certificates.caCertificatePem()).toContain('BEGIN CERTIFICATE');
    expect((await services.registry.unlock(CLI_CONTEXT, 5)).unlockedUntil).not.toBeNull();
    await services.ssoProviderAdmin.create(CLI_CONTEXT, {
      name: 'corp',
      displayName: 'Corp',
      issuer: 'https://login.example.com',
      clientId: 'warden',
      clientSecret: 'a-client-secret',
    });
    expect((await services.ssoProviderAdmin.list()).items.map((p) => p.name)).toEqual(['corp']);
  });
});

describe('upgrade repairs (sqlite)', () => {
  let database: TestDatabase | undefined;
  afterEach(() => database?.destroy());

  it('sets a session timeout of Infinity, which an earlier validation let in, back to the default', async () => {
    // Only SQLite could store it: PostgreSQL's integer column refuses Infinity.
    database = await createTestDatabase('sqlite', { upTo: PREVIOUS_RELEASE });
    await writePreviousRelease(database);
    // biome-ignore lint/suspicious/noExplicitAny: the previous release's schema.
    const db = database.db as unknown as Kysely<any>;
    await db
      .updateTable('users')
      .set({ session_timeout_minutes: Number.POSITIVE_INFINITY })
      .where('username', '=', 'bob')
      .execute();
    await migrateToLatest(database.db);
    const row = await db
      .selectFrom('users')
      .select('session_timeout_minutes')
      .where('username', '=', 'bob')
      .executeTakeFirstOrThrow();
    expect(row.session_timeout_minutes).toBe(0);
  });
});
