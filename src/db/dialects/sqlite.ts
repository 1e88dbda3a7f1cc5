import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  SqliteDialect,
  SqliteDriver,
} from 'kysely';

/** Prepared statements kept for reuse, the least recently used dropped beyond it. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query afresh, and better-sqlite3 compiles each prepared statement: on hot paths (an
 * MQTT reconnect storm runs a handful of queries per CONNECT) compiling costs about as much as running. The same
 * SQL text gets the same statement again — parameters are bound per call, so nothing carries over — unless that
 * statement is still busy (an unfinished iteration of a streamed query), which then gets a fresh one.
 */
function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql) {
      const cached = statements.get(sql);
      if (cached && !cached.busy) {
        // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
        statements.delete(sql);
        statements.set(sql, cached);
        return cached;
      }
      const statement = database.prepare(sql);
      statements.set(sql, statement);
      if (statements.size > STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
      return statement;
    },
  };
}

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
  constructor(private readonly database: SqliteDatabase) {
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
  return { dialect: new WardenSqliteDialect(withStatementCache(database)), close: () => database.close() };
}
