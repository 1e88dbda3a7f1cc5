import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createLeadership, type Leadership } from '../../src/db/leadership/leadership.js';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../helpers/databases.js';

/**
 * The duties election on PostgreSQL (docs/deployment.md#duties): one holder per Warden database. Two Warden
 * deployments that share one PostgreSQL database in separate schemas are separate Warden databases, and each
 * must elect its own holder — a lock key shared by every schema would leave one of them without any.
 */
describe('duties election (PostgreSQL)', () => {
  const url = postgresUrl();
  const databases: TestDatabase[] = [];
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    for (const database of databases.splice(0)) await database.destroy();
  });

  async function join(database: TestDatabase, instance: string): Promise<Leadership> {
    const leadership = createLeadership({
      db: database.db,
      clock: new ManualClock(Date.now()),
      instance,
      ...(database.locks ? { locks: database.locks } : {}),
    });
    stops.push(await leadership.start());
    return leadership;
  }

  it.skipIf(url === null)('elects one holder among the instances of one schema', async () => {
    const database = await createTestDatabase('postgres');
    databases.push(database);
    const a = await join(database, 'a');
    const b = await join(database, 'b');
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    expect((await b.holder())?.instance).toBe('a');
  });

  it.skipIf(url === null)(
    'a Warden database in another schema of the same PostgreSQL database elects its own holder',
    async () => {
      const first = await createTestDatabase('postgres');
      databases.push(first);
      const second = await createTestDatabase('postgres');
      databases.push(second);
      const a = await join(first, 'first-a');
      const b = await join(second, 'second-a');
      expect(a.isLeader()).toBe(true);
      expect(b.isLeader()).toBe(true);
      expect((await b.holder())?.instance).toBe('second-a');
    },
  );
});
