import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  type DatabaseHandle,
  type Engine,
  migrateToLatest,
  migrateUpTo,
  type OpenDatabaseOptions,
  openDatabase,
} from '../../src/db/database.js';

const inCi = process.env.CI === 'true';
let warned = false;

/**
 * The PostgreSQL URL for tests. Missing on a laptop: the PostgreSQL suites skip with a loud warning. Missing in
 * CI (`CI=true`): a hard failure, because there a skipped engine would hide a broken one.
 */
export function postgresUrl(): string | null {
  const url = process.env.TEST_POSTGRES_URL ?? null;
  if (url) return url;
  if (inCi) throw new Error('TEST_POSTGRES_URL is not set in CI: the PostgreSQL suites must run there');
  if (!warned) {
    warned = true;
    console.warn(
      '\n*** TEST_POSTGRES_URL is not set: PostgreSQL suites are SKIPPED (set it to run them) ***\n',
    );
  }
  return null;
}

/** Engines every storage-facing suite runs on: SQLite always, PostgreSQL when configured (always in CI). */
export const ENGINES: readonly Engine[] = postgresUrl() ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestDatabase extends DatabaseHandle {
  /**
   * How to open this same database again, as a second Warden instance would (`openDatabase`, also from a child
   * process); close such handles before `destroy`.
   */
  readonly location: OpenDatabaseOptions;
  /** Drops the database (temp dir or schema). */
  destroy(): Promise<void>;
}

/**
 * A fresh, migrated database: a temp SQLite file, or a private schema in the test PostgreSQL. `upTo` stops at
 * a named migration (the schema of an earlier release, for upgrade tests).
 */
export async function createTestDatabase(
  engine: Engine,
  options: { upTo?: string } = {},
): Promise<TestDatabase> {
  const migrate = (handle: DatabaseHandle): Promise<string[]> =>
    options.upTo ? migrateUpTo(handle.db, options.upTo) : migrateToLatest(handle.db);
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-test-'));
    const location = { databaseUrl: null, dataDir: dir };
    const handle = openDatabase(location);
    await migrate(handle);
    return {
      ...handle,
      location,
      destroy: async () => {
        await handle.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = postgresUrl();
  if (!url) throw new Error('PostgreSQL is not configured');
  const schema = `warden_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const location = { databaseUrl: url, dataDir: os.tmpdir(), searchPath: schema };
  const handle = openDatabase(location);
  const destroy = async (): Promise<void> => {
    await handle.close();
    const cleanup = new pg.Client({ connectionString: url });
    await cleanup.connect();
    await cleanup.query(`drop schema if exists ${schema} cascade`);
    await cleanup.end();
  };
  try {
    await migrate(handle);
  } catch (error) {
    // A failed migration must not leave its schema behind for the next run to trip over.
    await destroy();
    throw error;
  }
  return { ...handle, location, destroy };
}
