import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deleteApiKey,
  findApiKey,
  findApiKeyWithOwner,
  insertApiKey,
  listApiKeys,
  writeLastUsed,
} from '../../src/modules/api-keys/api-keys.repository.js';
import type { NewApiKeyRow } from '../../src/modules/api-keys/api-keys.table.js';
import {
  findAuditEvents,
  insertAuditEvent,
  iterateAuditEvents,
} from '../../src/modules/audit/audit.repository.js';
import {
  deleteSessionsOfUser,
  findSession,
  insertSession,
} from '../../src/modules/sessions/sessions.repository.js';
import {
  countUserManagers,
  deleteUserRow,
  findUserById,
  findUserBySsoSubject,
  findUserByUsername,
  findUsersByEmail,
  insertPasswordHistory,
  insertUser,
  listUsers,
  recentPasswordHashes,
  replaceUnmarkedPasswordHash,
  updateUser,
} from '../../src/modules/users/users.repository.js';
import type { NewUserRow } from '../../src/modules/users/users.table.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../helpers/databases.js';

function userRow(username: string, overrides: Partial<NewUserRow> = {}): NewUserRow {
  const now = 1_700_000_000_000;
  return {
    id: randomUUID(),
    username,
    username_lower: username.toLowerCase(),
    email: `${username.toLowerCase()}@example.com`,
    email_lower: `${username.toLowerCase()}@example.com`,
    kind: 'person',
    role: 'viewer',
    scopes: '[]',
    active: 1,
    password_hash: 'x',
    password_changed_at: now,
    last_login_at: null,
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

function apiKeyRow(id: string, ownerId: string, overrides: Partial<NewApiKeyRow> = {}): NewApiKeyRow {
  return {
    id,
    name: `key ${id}`,
    owner_id: ownerId,
    role: 'viewer',
    scopes: '[]',
    secret_hash: '$warden-hmac-sha256$v=1$s$m',
    expires_at: null,
    last_used_at: null,
    created_at: 1_700_000_000_000,
    created_by: 'cli',
    updated_at: 1_700_000_000_000,
    ...overrides,
  };
}

/** One contract, every engine: the repositories must behave identically on SQLite and PostgreSQL. */
describe.each(ENGINES)('storage contract on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
  });
  afterAll(() => database.destroy());

  it('round-trips a user with the same types on both engines', async () => {
    const row = userRow('Round.Trip', { last_login_at: 1_700_000_123_456, active: 1 });
    await insertUser(database.db, row);
    const found = await findUserByUsername(database.db, 'round.trip');
    expect(found).toMatchObject({
      username: 'Round.Trip',
      active: 1,
      protected: 0,
      last_login_at: 1_700_000_123_456,
    });
    expect(typeof found?.created_at).toBe('number');
    expect(found?.version).toBe(1);
  });

  it("round-trips a credential's origin and a rotation's previous record with its end", async () => {
    const row = userRow('rotating', {
      kind: 'device',
      password_hash: '$warden-hmac-sha256$v=1$new',
      password_origin: 'generated',
      previous_password_hash: '$warden-hmac-sha256$v=1$old',
      previous_valid_until: 1_700_000_600_000,
    });
    await insertUser(database.db, row);
    expect(await findUserById(database.db, row.id)).toMatchObject({
      password_origin: 'generated',
      previous_password_hash: '$warden-hmac-sha256$v=1$old',
      previous_valid_until: 1_700_000_600_000,
    });
    const plain = userRow('unrotated');
    await insertUser(database.db, plain);
    expect(await findUserById(database.db, plain.id)).toMatchObject({
      password_origin: null,
      previous_password_hash: null,
      previous_valid_until: null,
    });
  });

  it('moves a password of unrecorded origin to another record only while it is unchanged and unmarked', async () => {
    const legacy = userRow('legacy-device', { kind: 'device', password_hash: '$argon2id$legacy' });
    await insertUser(database.db, legacy);
    // Changed meanwhile: the row no longer holds the record that was verified.
    expect(await replaceUnmarkedPasswordHash(database.db, legacy.id, '$argon2id$other', 'keyed-1')).toBe(
      false,
    );
    expect(await replaceUnmarkedPasswordHash(database.db, legacy.id, '$argon2id$legacy', 'keyed-1')).toBe(
      true,
    );
    expect(await findUserById(database.db, legacy.id)).toMatchObject({
      password_hash: 'keyed-1',
      password_origin: 'generated',
    });
    // Once marked, never again (a racing second verification of the same old record changes nothing).
    expect(await replaceUnmarkedPasswordHash(database.db, legacy.id, 'keyed-1', 'keyed-2')).toBe(false);
    const chosen = userRow('chosen-device', { password_hash: '$argon2id$chosen', password_origin: 'chosen' });
    await insertUser(database.db, chosen);
    expect(await replaceUnmarkedPasswordHash(database.db, chosen.id, '$argon2id$chosen', 'keyed-3')).toBe(
      false,
    );
  });

  it('enforces case-insensitive uniqueness of usernames', async () => {
    await insertUser(database.db, userRow('Unique_One'));
    await expect(insertUser(database.db, userRow('UNIQUE_ONE'))).rejects.toThrow();
  });

  it('bumps version on every update', async () => {
    const row = userRow('versioned');
    await insertUser(database.db, row);
    await updateUser(database.db, row.id, { description: 'one' });
    await updateUser(database.db, row.id, { description: 'two' });
    expect((await findUserById(database.db, row.id))?.version).toBe(3);
  });

  it('lists with case-insensitive substring search on username and email, literal % and _', async () => {
    await insertUser(
      database.db,
      userRow('search_alpha', { email: 'Zed@Corp.example', email_lower: 'zed@corp.example' }),
    );
    await insertUser(database.db, userRow('searchXbeta'));
    const byName = await listUsers(database.db, engine, {
      search: 'SEARCH_',
      includeInactive: true,
      limit: 25,
      offset: 0,
    });
    expect(byName.rows.map((r) => r.username)).toEqual(['search_alpha']);
    const byEmail = await listUsers(database.db, engine, {
      search: 'CORP.EX',
      includeInactive: true,
      limit: 25,
      offset: 0,
    });
    expect(byEmail.rows.map((r) => r.username)).toEqual(['search_alpha']);
    const percent = await listUsers(database.db, engine, {
      search: '%',
      includeInactive: true,
      limit: 25,
      offset: 0,
    });
    expect(percent.total).toBe(0);
  });

  it('keeps list totals exact through inserts, role/status changes and deletes', async () => {
    const base = await listUsers(database.db, engine, {
      includeInactive: true,
      role: 'operator',
      limit: 1,
      offset: 0,
    });
    const row = userRow('counted', { role: 'operator' });
    await insertUser(database.db, row);
    await updateUser(database.db, row.id, { active: 0 });
    const active = await listUsers(database.db, engine, {
      includeInactive: false,
      role: 'operator',
      limit: 1,
      offset: 0,
    });
    const all = await listUsers(database.db, engine, {
      includeInactive: true,
      role: 'operator',
      limit: 1,
      offset: 0,
    });
    expect(all.total).toBe(base.total + 1);
    expect(active.total).toBe(base.total);
    await updateUser(database.db, row.id, { role: 'admin', active: 1 });
    expect(
      (await listUsers(database.db, engine, { includeInactive: true, role: 'operator', limit: 1, offset: 0 }))
        .total,
    ).toBe(base.total);
    await deleteUserRow(database.db, row.id);
    const everyone = await database.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect((await listUsers(database.db, engine, { includeInactive: true, limit: 1, offset: 0 })).total).toBe(
      Number(everyone.n),
    );
  });

  it('finds substrings shorter than a trigram and follows email changes', async () => {
    const row = userRow('qz-short');
    await insertUser(database.db, row);
    expect(
      (
        await listUsers(database.db, engine, { search: 'QZ', includeInactive: true, limit: 25, offset: 0 })
      ).rows.map((r) => r.username),
    ).toEqual(['qz-short']);
    await updateUser(database.db, row.id, { email: 'new@Quokka.example', email_lower: 'new@quokka.example' });
    expect(
      (
        await listUsers(database.db, engine, {
          search: 'quokka',
          includeInactive: true,
          limit: 25,
          offset: 0,
        })
      ).total,
    ).toBe(1);
    expect(
      (
        await listUsers(database.db, engine, {
          search: 'qz-short@',
          includeInactive: true,
          limit: 25,
          offset: 0,
        })
      ).total,
    ).toBe(0);
  });

  it('filters inactive users and roles, pages in username order with a total', async () => {
    for (let i = 0; i < 30; i += 1) {
      await insertUser(
        database.db,
        userRow(`page-${String(i).padStart(2, '0')}`, {
          role: i % 3 === 0 ? 'operator' : 'viewer',
          active: i % 10 === 9 ? 0 : 1,
        }),
      );
    }
    const page2 = await listUsers(database.db, engine, {
      search: 'page-',
      includeInactive: false,
      limit: 10,
      offset: 10,
    });
    expect(page2.total).toBe(27);
    expect(page2.rows[0]?.username).toBe('page-11');
    const operators = await listUsers(database.db, engine, {
      search: 'page-',
      role: 'operator',
      includeInactive: true,
      limit: 25,
      offset: 0,
    });
    expect(operators.total).toBe(10);
  });

  it('counts the admins who can manage users (active, person, password, user_management), optionally excluding one', async () => {
    const manager = { role: 'admin', scopes: '["user_management","log_management"]' };
    const a = userRow('admin-a', manager);
    await insertUser(database.db, a);
    await insertUser(database.db, userRow('admin-inactive', { ...manager, active: 0 }));
    await insertUser(database.db, userRow('admin-no-scope', { role: 'admin', scopes: '["log_management"]' }));
    await insertUser(database.db, userRow('admin-device', { ...manager, kind: 'device' }));
    await insertUser(database.db, userRow('admin-no-password', { ...manager, password_hash: null }));
    await insertUser(database.db, userRow('operator-scoped', { ...manager, role: 'operator' }));
    expect(await countUserManagers(database.db)).toBe(1);
    expect(await countUserManagers(database.db, a.id)).toBe(0);
  });

  it('counts SSO admins as managers only while their provider is enabled; finds users by SSO subject and email', async () => {
    const manager = { role: 'admin', scopes: '["user_management"]' };
    const before = await countUserManagers(database.db);
    const sso = userRow('sso-admin', {
      ...manager,
      auth_method: 'sso',
      sso_provider: 'corp',
      sso_subject: 'sub-1',
      password_hash: null,
    });
    await insertUser(database.db, sso);
    // A password kept from before the switch to SSO does not make one who can sign in.
    await insertUser(
      database.db,
      userRow('sso-kept', { ...manager, auth_method: 'sso', sso_provider: 'off' }),
    );
    expect(await countUserManagers(database.db)).toBe(before);
    expect(await countUserManagers(database.db, undefined, ['corp'])).toBe(before + 1);
    expect(await countUserManagers(database.db, sso.id, ['corp', 'x'])).toBe(before);
    expect((await findUserBySsoSubject(database.db, 'corp', 'sub-1'))?.username).toBe('sso-admin');
    expect(await findUserBySsoSubject(database.db, 'off', 'sub-1')).toBeUndefined();
    // One subject belongs to one user per provider; another provider may use the same subject.
    await expect(
      insertUser(
        database.db,
        userRow('sso-dup', { auth_method: 'sso', sso_provider: 'corp', sso_subject: 'sub-1' }),
      ),
    ).rejects.toThrow();
    await insertUser(
      database.db,
      userRow('sso-other', { auth_method: 'sso', sso_provider: 'off', sso_subject: 'sub-1' }),
    );
    await insertUser(
      database.db,
      userRow('sso-twin', { email: 'SSO-Admin@example.com', email_lower: 'sso-admin@example.com' }),
    );
    expect((await findUsersByEmail(database.db, 'SSO-ADMIN@EXAMPLE.COM')).map((row) => row.username)).toEqual(
      ['sso-admin', 'sso-twin'],
    );
  });

  it('keeps the provider and sealed ID token of a session an SSO sign-in started', async () => {
    const row = userRow('sso-session');
    await insertUser(database.db, row);
    const fields = {
      token_hash: 'h',
      user_id: row.id,
      stage: 'active',
      created_at: 1,
      last_seen_at: 1,
      expires_at: 2,
      ip: '',
      user_agent: '',
    };
    await insertSession(database.db, {
      ...fields,
      id: 'sess-sso',
      sso_provider: 'corp',
      sso_id_token_sealed: 'v1.a.b.c',
    });
    await insertSession(database.db, { ...fields, id: 'sess-password' });
    expect(await findSession(database.db, 'sess-sso')).toMatchObject({
      sso_provider: 'corp',
      sso_id_token_sealed: 'v1.a.b.c',
    });
    expect(await findSession(database.db, 'sess-password')).toMatchObject({
      sso_provider: null,
      sso_id_token_sealed: null,
    });
  });

  it('cascades sessions and password history when a user is deleted', async () => {
    const row = userRow('cascade');
    await insertUser(database.db, row);
    await insertSession(database.db, {
      id: 'sess-cascade',
      token_hash: 'h',
      user_id: row.id,
      stage: 'active',
      created_at: 1,
      last_seen_at: 1,
      expires_at: 2,
      ip: '',
      user_agent: '',
    });
    await insertPasswordHistory(
      database.db,
      { id: randomUUID(), user_id: row.id, password_hash: 'h1', created_at: 1 },
      5,
    );
    await deleteUserRow(database.db, row.id);
    expect(await findSession(database.db, 'sess-cascade')).toBeUndefined();
    expect(await recentPasswordHashes(database.db, row.id, 5)).toEqual([]);
  });

  it('stores API keys: same types, owner join and filter, last use only moving forward, cascade with the owner', async () => {
    const owner = userRow('Key.Owner');
    const other = userRow('key.other');
    await insertUser(database.db, owner);
    await insertUser(database.db, other);
    await insertApiKey(
      database.db,
      apiKeyRow('k1', owner.id, { expires_at: 1_800_000_000_000, created_at: 1 }),
    );
    await insertApiKey(database.db, apiKeyRow('k2', owner.id, { created_at: 2 }));
    await insertApiKey(database.db, apiKeyRow('k3', other.id, { created_at: 3 }));
    expect(await findApiKey(database.db, 'k1')).toMatchObject({
      expires_at: 1_800_000_000_000,
      enabled: 1,
      description: '',
      last_used_at: null,
    });
    expect((await findApiKeyWithOwner(database.db, 'k3'))?.owner_username).toBe('key.other');
    const page = await listApiKeys(database.db, { ownerUsername: 'KEY.OWNER' }, { limit: 1, offset: 0 });
    expect(page.total).toBe(2);
    expect(page.rows.map((row) => row.id)).toEqual(['k2']);
    await writeLastUsed(database.db, new Map([['k1', 5_000]]));
    await writeLastUsed(
      database.db,
      new Map([
        ['k1', 4_000],
        ['gone', 1],
      ]),
    );
    expect((await findApiKey(database.db, 'k1'))?.last_used_at).toBe(5_000);
    expect(await deleteApiKey(database.db, 'k2')).toBe(1);
    expect(await deleteApiKey(database.db, 'k2')).toBe(0);
    await deleteUserRow(database.db, owner.id);
    expect(await findApiKey(database.db, 'k1')).toBeUndefined();
    expect(await findApiKey(database.db, 'k3')).toBeDefined();
  });

  it('keeps only the newest N password hashes', async () => {
    const row = userRow('history');
    await insertUser(database.db, row);
    for (let i = 1; i <= 5; i += 1) {
      await insertPasswordHistory(
        database.db,
        { id: randomUUID(), user_id: row.id, password_hash: `h${i}`, created_at: i },
        3,
      );
    }
    expect(await recentPasswordHashes(database.db, row.id, 10)).toEqual(['h5', 'h4', 'h3']);
  });

  it('ends all sessions of a user but one', async () => {
    const row = userRow('sessions-owner');
    await insertUser(database.db, row);
    for (const id of ['s1', 's2', 's3']) {
      await insertSession(database.db, {
        id,
        token_hash: id,
        user_id: row.id,
        stage: 'active',
        created_at: 1,
        last_seen_at: 1,
        expires_at: 9,
        ip: '',
        user_agent: '',
      });
    }
    expect(await deleteSessionsOfUser(database.db, row.id, 's2')).toBe(2);
    expect(await findSession(database.db, 's2')).toBeDefined();
  });

  it('stores audit events with increasing ids, filters and iterates them', async () => {
    for (let i = 0; i < 5; i += 1) {
      await insertAuditEvent(database.db, {
        at: 1000 + i,
        actor_type: 'cli',
        actor_name: 'cli',
        action: i % 2 ? 'user.update' : 'user.create',
        target: `user:t${i}`,
        outcome: 'success',
        ip: '',
        request_id: '',
        details: JSON.stringify({ i }),
      });
    }
    const updates = await findAuditEvents(database.db, { action: 'user.update' }, { limit: 10, offset: 0 });
    expect(updates.total).toBe(2);
    const prefixed = await findAuditEvents(
      database.db,
      { action: 'user.', from: 1001, to: 1003 },
      { limit: 10, offset: 0 },
    );
    expect(prefixed.rows.map((r) => r.at)).toEqual([1003, 1002, 1001]);
    const all: number[] = [];
    for await (const row of iterateAuditEvents(database.db, {}, 2)) all.push(row.at);
    expect(all).toEqual([1000, 1001, 1002, 1003, 1004]);
  });

  it('rolls back every statement of a failed transaction', async () => {
    const row = userRow('rollback');
    await expect(
      database.db.transaction().execute(async (trx) => {
        await insertUser(trx, row);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await findUserByUsername(database.db, 'rollback')).toBeUndefined();
  });

  it('enforces foreign keys', async () => {
    await expect(
      insertSession(database.db, {
        id: 'orphan',
        token_hash: 'h',
        user_id: 'missing',
        stage: 'active',
        created_at: 1,
        last_seen_at: 1,
        expires_at: 2,
        ip: '',
        user_agent: '',
      }),
    ).rejects.toThrow();
  });
});

describe('SQLite settings', () => {
  it('runs in WAL mode with foreign keys and durable commits', async () => {
    const database = await createTestDatabase('sqlite');
    const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(database.db);
    const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(database.db);
    const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(database.db);
    expect(journal.rows[0]?.journal_mode).toBe('wal');
    expect(sync.rows[0]?.synchronous).toBe(2);
    expect(fk.rows[0]?.foreign_keys).toBe(1);
    await database.destroy();
  });
});
