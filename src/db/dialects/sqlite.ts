import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, type DatabaseConnection, type Driver, SqliteDialect, SqliteDriver } from 'kysely';

/**
 * SQLite's default `BEGIN` is deferred: two writers can both start reading and one then fails with
 * SQLITE_BUSY when it upgrades to a write lock. `BEGIN IMMEDIATE` takes the write lock up front, so every
 * Warden transaction is serialized against other connections (the CLI, a second process) and check-then-write
 * rules such as "at least one active admin" hold.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class WardenSqliteDialect extends SqliteDialect {
  constructor(private readonly database: SQLite.Database) {
    super({ database });
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.database });
  }
}

/** Opens the SQLite file with the settings Warden relies on; `:memory:` is accepted for tooling. */
export function createSqliteDialect(file: string): { dialect: SqliteDialect; close: () => void } {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  // FULL makes every commit durable in WAL mode (NORMAL may lose the last commits on power loss).
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return { dialect: new WardenSqliteDialect(database), close: () => database.close() };
}
