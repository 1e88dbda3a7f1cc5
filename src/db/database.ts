import path from 'node:path';
import { Kysely, Migrator } from 'kysely';
import { createPostgresDialect } from './dialects/postgres.js';
import { createSqliteDialect } from './dialects/sqlite.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

export type Engine = 'sqlite' | 'postgres';

/** An open database: the Kysely instance, which engine it runs on, and how to close it. */
export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** `postgres://…` or null for SQLite. */
  databaseUrl: string | null;
  /** Directory of the SQLite file (`warden.db`). */
  dataDir: string;
  /** PostgreSQL only: schema to use (tests isolate each suite in its own schema). */
  searchPath?: string;
  /** SQLite only: explicit file, e.g. `:memory:`. */
  sqliteFile?: string;
}

export function openDatabase(options: OpenDatabaseOptions): DatabaseHandle {
  if (options.databaseUrl) {
    const { dialect, pool } = createPostgresDialect(options.databaseUrl, {
      ...(options.searchPath ? { searchPath: options.searchPath } : {}),
    });
    const db = new Kysely<Database>({ dialect });
    return {
      db,
      engine: 'postgres',
      close: async () => {
        await db.destroy();
        // destroy() ends the pool; calling end twice would throw, so only pg's own guard is relied on.
        void pool;
      },
    };
  }
  const file = options.sqliteFile ?? path.join(options.dataDir, 'warden.db');
  const { dialect } = createSqliteDialect(file);
  const db = new Kysely<Database>({ dialect });
  return { db, engine: 'sqlite', close: () => db.destroy() };
}

/** Brings the schema up to date; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
