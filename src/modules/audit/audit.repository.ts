import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { AuditEventRow, AuditEventsTable } from './audit.table.js';

export type NewAuditEvent = Omit<AuditEventsTable, 'id'>;

export async function insertAuditEvent(db: Kysely<Database>, event: NewAuditEvent): Promise<void> {
  await db.insertInto('audit_events').values(event).execute();
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  outcome?: 'success' | 'failure';
  from?: number;
  to?: number;
}

/** `value` as a LIKE pattern matching itself literally (`%`, `_` and `\\` escaped). */
function literal(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The filters of docs/audit.md: `actor` is an actor name (`user:alice`, `cli`, `system`, `anonymous`,
 * `apikey:<id>`) or a bare username (`alice` = `user:alice`); `action` is exact (`user.create`) or, ending in a
 * dot or without one, a prefix (`user.` and `user` both match every user action); `target` matches as a
 * case-insensitive substring.
 */
function applyFilter(
  query: SelectQueryBuilder<Database, 'audit_events', object>,
  filter: AuditFilter,
): SelectQueryBuilder<Database, 'audit_events', object> {
  let q = query;
  if (filter.actor) {
    const actor = filter.actor;
    q = actor.includes(':')
      ? q.where('actor_name', '=', actor)
      : q.where((eb) => eb.or([eb('actor_name', '=', actor), eb('actor_name', '=', `user:${actor}`)]));
  }
  if (filter.action) {
    const action = filter.action;
    const prefix = action.endsWith('.') ? action : action.includes('.') ? null : `${action}.`;
    q = prefix
      ? q.where(sql<boolean>`action like ${`${literal(prefix)}%`} escape '\\'`)
      : q.where('action', '=', action);
  }
  if (filter.target) {
    q = q.where(sql<boolean>`lower(target) like ${`%${literal(filter.target.toLowerCase())}%`} escape '\\'`);
  }
  if (filter.outcome) q = q.where('outcome', '=', filter.outcome);
  if (filter.from !== undefined) q = q.where('at', '>=', filter.from);
  if (filter.to !== undefined) q = q.where('at', '<=', filter.to);
  return q;
}

export async function findAuditEvents(
  db: Kysely<Database>,
  filter: AuditFilter,
  page: { limit: number; offset: number },
): Promise<{ rows: AuditEventRow[]; total: number }> {
  const base = applyFilter(db.selectFrom('audit_events'), filter);
  const [rows, count] = await Promise.all([
    base
      .selectAll()
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.total) };
}

/** Streams matching events oldest first, in batches, so exports of any size use bounded memory. */
export async function* iterateAuditEvents(
  db: Kysely<Database>,
  filter: AuditFilter,
  batchSize = 1000,
): AsyncGenerator<AuditEventRow> {
  let afterId = 0;
  for (;;) {
    const rows = await applyFilter(db.selectFrom('audit_events'), filter)
      .selectAll()
      .where('id', '>', afterId)
      .orderBy('id', 'asc')
      .limit(batchSize)
      .execute();
    yield* rows;
    const last = rows.at(-1);
    if (!last || rows.length < batchSize) return;
    afterId = last.id;
  }
}
