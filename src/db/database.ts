import path from 'node:path';
import { Kysely, type MigrationResultSet, Migrator, PostgresAdapter, sql } from 'kysely';
import {
  createLockSource,
  createNotificationSource,
  createPostgresDialect,
  type LockSource,
  type NotificationSource,
} from './dialects/postgres.js';
import { createSqliteDialect } from './dialects/sqlite.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

export type Engine = 'sqlite' | 'postgres';

/** An open database: the Kysely instance, which engine it runs on, and how to close it. */
export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  /** PostgreSQL only: notifications of appended changes (SQLite followers poll instead). */
  readonly notifications?: NotificationSource;
  /** PostgreSQL only: session locks for electing the instance that runs the duties (SQLite has one server). */
  readonly locks?: LockSource;
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
    const { dialect } = createPostgresDialect(options.databaseUrl, {
      ...(options.searchPath ? { searchPath: options.searchPath } : {}),
    });
    const db = new Kysely<Database>({ dialect });
    const session = options.searchPath ? { searchPath: options.searchPath } : {};
    const notifications = createNotificationSource(options.databaseUrl, session);
    const locks = createLockSource(options.databaseUrl, session);
    // destroy() also ends the pool.
    return { db, engine: 'postgres', notifications, locks, close: () => db.destroy() };
  }
  const file = options.sqliteFile ?? path.join(options.dataDir, 'warden.db');
  const { dialect } = createSqliteDialect(file);
  const db = new Kysely<Database>({ dialect });
  return { db, engine: 'sqlite', close: () => db.destroy() };
}

async function migrator(db: Kysely<Database>): Promise<Migrator> {
  // Kysely looks for its bookkeeping tables in every schema it can see; pin them to the schema this connection
  // writes to, so two Warden databases in one PostgreSQL (or a test schema beside another) never mix.
  const schema =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  return new Migrator({
    db,
    provider: migrationProvider,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

function applied(outcome: MigrationResultSet): string[] {
  const { error, results } = outcome;
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Brings the schema up to date; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  return applied(await (await migrator(db)).migrateToLatest());
}

/** Brings the schema up to (and including) `migration`: how upgrade tests build a previous release's schema. */
export async function migrateUpTo(db: Kysely<Database>, migration: string): Promise<string[]> {
  return applied(await (await migrator(db)).migrateTo(migration));
}
