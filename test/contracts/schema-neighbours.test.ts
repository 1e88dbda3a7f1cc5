import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/database.js';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../helpers/databases.js';

/**
 * Several Warden databases may live as schemas in one PostgreSQL (tests do it all the time): migrating one must
 * neither see nor trip over the others — not even over a neighbour dropped in the middle of the migration, which
 * Kysely's own introspector (reading every schema) turned into "schema … does not exist".
 */
describe.skipIf(!postgresUrl())('schemas beside each other (postgres)', () => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(databases.map((database) => database.destroy()));
  });

  it('introspection sees only its own schema', async () => {
    const [a, b] = await Promise.all([createTestDatabase('postgres'), createTestDatabase('postgres')]);
    databases.push(a, b);
    const tables = await a.db.introspection.getTables({ withInternalKyselyTables: true });
    const schemas = new Set(tables.map((table) => table.schema));
    expect(schemas).toEqual(new Set([a.location.searchPath]));
    expect(tables.map((table) => table.name)).toContain('kysely_migration');
  });

  it('migrating stays correct while neighbours are created and dropped', async () => {
    const url = postgresUrl() as string;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    let churning = true;
    const churn = (async () => {
      for (let round = 0; churning; round++) {
        const name = `warden_churn_${process.pid}_${round}`;
        await admin.query(`create schema ${name}`);
        await admin.query(`create table ${name}.t (id bigserial primary key, v text)`);
        await admin.query(`drop schema ${name} cascade`);
      }
    })();
    try {
      const database = await createTestDatabase('postgres');
      databases.push(database);
      for (let i = 0; i < 20; i++) expect(await migrateToLatest(database.db)).toEqual([]);
    } finally {
      churning = false;
      await churn;
      await admin.end();
    }
  });
});
