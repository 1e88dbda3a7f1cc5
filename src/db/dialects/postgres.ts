import { PostgresDialect } from 'kysely';
import pg from 'pg';

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
  return { dialect: new PostgresDialect({ pool }), pool };
}

/** A live LISTEN on the change feed's channel; `close` ends its connection. */
export interface Subscription {
  close(): Promise<void>;
}

/**
 * Where a process hears of appended changes at once: PostgreSQL notifications on a dedicated connection (a
 * pooled one may be handed to another query between notifications). `onLost` is called once when the
 * connection fails or ends; the caller reconnects.
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
      const client = new pg.Client({
        connectionString,
        ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
      });
      let lost = false;
      const lose = (error: unknown): void => {
        if (lost) return;
        lost = true;
        onLost(error);
      };
      client.on('error', lose);
      client.on('end', () => lose(new Error('the notification connection ended')));
      client.on('notification', () => onNotify());
      try {
        await client.connect();
        // The channel the appends notify (src/db/change-feed/change-feed.repository.ts), for this schema.
        const { rows } = await client.query<{ channel: string }>(
          "select 'warden_changes_' || current_schema() as channel",
        );
        await client.query(`listen ${client.escapeIdentifier(rows[0]?.channel ?? 'warden_changes')}`);
      } catch (error) {
        lost = true;
        await client.end().catch(() => {});
        throw error;
      }
      return {
        async close() {
          lost = true;
          await client.end().catch(() => {});
        },
      };
    },
  };
}
