import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/db/group-commit.js';
import type { Database } from '../../src/db/schema.js';
import { findAuditEvents, insertAuditEvent } from '../../src/modules/audit/audit.repository.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../helpers/databases.js';

/**
 * Writes one audit event per unit (any table would do) and answers the transaction it ran in and the batch's
 * prepared value: the number of the batch.
 */
function eventWriter(database: TestDatabase, failOn?: string) {
  let batches = 0;
  return new GroupCommit<string, [Transaction<Database>, number], number>(database.db, {
    prepare: async () => ++batches,
    async apply(trx, target, batch) {
      if (target === failOn) throw new Error(`unit ${target} failed`);
      await insertAuditEvent(trx, {
        at: 1,
        actor_type: 'system',
        actor_name: 'system',
        action: 'mqtt.connect',
        target,
        outcome: 'success',
        ip: '',
        request_id: '',
        details: '{}',
      });
      return [trx, batch];
    },
  });
}

async function written(database: TestDatabase, targets: readonly string[]): Promise<string[]> {
  const { rows } = await findAuditEvents(
    database.db,
    { action: 'mqtt.connect' },
    { limit: 1_000, offset: 0 },
  );
  return rows.map((row) => row.target).filter((target) => targets.includes(target));
}

describe.each(ENGINES)('group commit (%s)', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
  });
  afterAll(() => database.destroy());

  it('units submitted together share one transaction and are all written once it committed', async () => {
    const writer = eventWriter(database);
    const together = Array.from({ length: 20 }, () => `unit:${randomUUID()}`);
    const answers = await Promise.all(together.map((target) => writer.submit(target)));
    expect(new Set(answers.map(([trx]) => trx)).size).toBe(1);
    expect(new Set(answers.map(([, batch]) => batch))).toEqual(new Set([1]));
    expect((await written(database, together)).sort()).toEqual([...together].sort());
  });

  it('a unit that throws fails its whole batch: nothing of it is written, every submitter hears of it', async () => {
    const writer = eventWriter(database, 'unit:bad');
    const targets = ['unit:a', 'unit:bad', 'unit:c'].map((t) =>
      t === 'unit:bad' ? t : `${t}:${randomUUID()}`,
    );
    const outcomes = await Promise.allSettled(targets.map((target) => writer.submit(target)));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await written(database, targets)).toEqual([]);
    // The writer goes on with the next batch.
    const next = `unit:${randomUUID()}`;
    await writer.submit(next);
    expect(await written(database, [next])).toEqual([next]);
  });
});
