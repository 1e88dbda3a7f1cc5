import type { Kysely, SelectQueryBuilder } from 'kysely';
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

function applyFilter(
  query: SelectQueryBuilder<Database, 'audit_events', object>,
  filter: AuditFilter,
): SelectQueryBuilder<Database, 'audit_events', object> {
  let q = query;
  if (filter.actor) q = q.where('actor_name', '=', filter.actor);
  // `user.` matches every user action: a trailing dot is a prefix filter.
  if (filter.action) {
    q = filter.action.endsWith('.')
      ? q.where('action', 'like', `${filter.action}%`)
      : q.where('action', '=', filter.action);
  }
  if (filter.target) q = q.where('target', '=', filter.target);
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
