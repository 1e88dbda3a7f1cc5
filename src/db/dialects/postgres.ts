import type { PostgresDialect } from 'kysely';
import pg from 'pg';
import { SchemaScopedPostgresDialect } from './current-schema-introspector.js';

const INT8_OID = 20;

/**
 * PostgreSQL pool. `bigint` columns hold epoch milliseconds and counts, which fit in a JS number, so int8 is
 * parsed to number here and the repositories see the same types as on SQLite.
 */
export function createPostgresDialect(
  connectionString: string,
  options: { searchPath?: string; max?: number } = {},
): { dialect: PostgresDialect; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  return { dialect: new SchemaScopedPostgresDialect({ pool }), pool };
}

/**
 * A connection of its own (not one of the pool's, which may be handed to another query at any time) in the
 * schema `searchPath`: for a LISTEN or a session lock, both of which live exactly as long as their connection.
 * `onLost` is called once if it fails or ends before `close`.
 */
async function dedicatedConnection(
  connectionString: string,
  searchPath: string | undefined,
  onLost: (error: unknown) => void,
): Promise<{ client: pg.Client; close(): Promise<void> }> {
  const client = new pg.Client({
    connectionString,
    ...(searchPath ? { options: `-c search_path=${searchPath}` } : {}),
  });
  let closed = false;
  const lose = (error: unknown): void => {
    if (closed) return;
    closed = true;
    onLost(error);
  };
  client.on('error', lose);
  client.on('end', () => lose(new Error('the dedicated database connection ended')));
  const close = async (): Promise<void> => {
    closed = true;
    await client.end().catch(() => {});
  };
  try {
    await client.connect();
  } catch (error) {
    await close();
    throw error;
  }
  return { client, close };
}

/** A live LISTEN on the change feed's channel; `close` ends its connection. */
export interface Subscription {
  close(): Promise<void>;
}

/**
 * Where a process hears of appended changes at once: PostgreSQL notifications on a dedicated connection.
 * `onLost` is called once when the connection fails or ends; the caller reconnects.
 */
export interface NotificationSource {
  subscribe(handlers: { onNotify: () => void; onLost: (error: unknown) => void }): Promise<Subscription>;
}

export function createNotificationSource(
  connectionString: string,
  options: { searchPath?: string } = {},
): NotificationSource {
  return {
    async subscribe({ onNotify, onLost }) {
      const connection = await dedicatedConnection(connectionString, options.searchPath, onLost);
      const { client } = connection;
      client.on('notification', () => onNotify());
      try {
        // The channel the appends notify (src/db/change-feed/change-feed.repository.ts), for this schema.
        const { rows } = await client.query<{ channel: string }>(
          "select 'warden_changes_' || current_schema() as channel",
        );
        await client.query(`listen ${client.escapeIdentifier(rows[0]?.channel ?? 'warden_changes')}`);
      } catch (error) {
        await connection.close();
        throw error;
      }
      return { close: connection.close };
    },
  };
}

/** A session-level advisory lock held on its own connection; lost with that connection. */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Session-level advisory locks on dedicated connections: the election of the instance that runs the duties
 * that must run once. PostgreSQL releases the lock the moment its connection ends — also when the holding
 * process is killed — so another instance can take over at once.
 */
export interface LockSource {
  /**
   * Takes the lock `key` (an int4) of this schema if free (null when another session holds it); `onLost` fires
   * if its connection fails.
   */
  tryHold(key: number, onLost: (error: unknown) => void): Promise<HeldLock | null>;
}

export function createLockSource(
  connectionString: string,
  options: { searchPath?: string } = {},
): LockSource {
  return {
    async tryHold(key, onLost) {
      const connection = await dedicatedConnection(connectionString, options.searchPath, onLost);
      try {
        // Advisory locks are per PostgreSQL database, but a Warden database is a schema: two deployments in
        // separate schemas of one database must each elect their own holder, so the schema is half of the key.
        const { rows } = await connection.client.query<{ held: boolean }>(
          'select pg_try_advisory_lock(hashtext(current_schema()), $1) as held',
          [key],
        );
        if (rows[0]?.held) return { release: connection.close };
      } catch (error) {
        await connection.close();
        throw error;
      }
      await connection.close();
      return null;
    },
  };
}
