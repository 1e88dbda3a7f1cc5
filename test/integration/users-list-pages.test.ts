import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUser, listUsers } from '../../src/modules/users/users.repository.js';
import type { NewUserRow } from '../../src/modules/users/users.table.js';
import { ENGINES } from '../helpers/databases.js';
import { createTestContext, type TestContext } from '../helpers/test-app.js';

const USERS = 2600;

describe.each(ENGINES)('deep pages of the user list on %s', (engine) => {
  let t: TestContext;

  function row(username: string, role = 'viewer', active = 1): NewUserRow {
    return {
      id: randomUUID(),
      username,
      username_lower: username.toLowerCase(),
      email: null,
      email_lower: null,
      kind: 'person',
      role,
      scopes: '[]',
      active,
      password_hash: null,
      password_changed_at: null,
      last_login_at: null,
      created_at: 0,
      updated_at: 0,
    };
  }
  const add = (username: string): Promise<void> => insertUser(t.database.db, row(username));

  /** The list as plain OFFSET pagination would give it: the reference for the remembered marks. */
  async function reference(page: number, role?: string, includeInactive = false) {
    const { rows } = await listUsers(t.database.db, engine, {
      ...(role ? { role } : {}),
      includeInactive,
      limit: 25,
      offset: (page - 1) * 25,
    });
    return rows.map((r) => r.username);
  }

  beforeAll(async () => {
    t = await createTestContext({ engine });
    const rows = Array.from({ length: USERS }, (_, i) =>
      row(`u${String((i * 7919) % USERS).padStart(5, '0')}`, i % 3 ? 'viewer' : 'operator', i % 11 ? 1 : 0),
    );
    for (let i = 0; i < rows.length; i += 200)
      await t.database.db
        .insertInto('users')
        .values(rows.slice(i, i + 200))
        .execute();
  });
  afterAll(() => t.close());

  it('pages beyond the first marks match plain offset pagination, for every filter', async () => {
    for (const [role, includeInactive] of [
      [undefined, false],
      [undefined, true],
      ['operator', false],
      ['viewer', true],
    ] as const) {
      for (const page of [40, 41, 77, 80, 95, 104]) {
        const served = await t.services.users.list({
          page,
          pageSize: 25,
          includeInactive,
          ...(role ? { role } : {}),
        });
        expect(
          served.items.map((u) => u.username),
          `${role} ${includeInactive} page ${page}`,
        ).toEqual(await reference(page, role, includeInactive));
      }
    }
  });

  it('sees inserts, deletions and status changes at once (generation bump)', async () => {
    await t.services.users.list({ page: 60, pageSize: 25 });
    await add('u00000a');
    expect((await t.services.users.list({ page: 60, pageSize: 25 })).items.map((u) => u.username)).toEqual(
      await reference(60),
    );
    await t.database.db.updateTable('users').set({ active: 0 }).where('username', '=', 'u00100').execute();
    expect((await t.services.users.list({ page: 60, pageSize: 25 })).items.map((u) => u.username)).toEqual(
      await reference(60),
    );
    await t.database.db.deleteFrom('users').where('username', '=', 'u00050').execute();
    expect((await t.services.users.list({ page: 45, pageSize: 25 })).items.map((u) => u.username)).toEqual(
      await reference(45),
    );
  });

  it('a page past the end is empty with the right total', async () => {
    const past = await t.services.users.list({ page: 4000, pageSize: 25 });
    expect(past.items).toEqual([]);
    expect(past.total).toBeGreaterThan(2000);
  });
});
