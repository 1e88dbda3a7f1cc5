import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { toIso } from '../../core/clock.js';
import { AppError } from '../../core/errors/app-error.js';
import type { Database } from '../../db/schema.js';
import type { OperationContext } from '../permissions/operation-context.js';
import { actorName } from '../permissions/permissions.policy.js';
import type { AuditAction } from './audit.actions.js';
import {
  type AuditFilter,
  findAuditEvents,
  insertAuditEvent,
  iterateAuditEvents,
} from './audit.repository.js';
import type { AuditEventRow } from './audit.table.js';

/** Who an event is recorded for, when not the operation's actor (a login is made by the claimed user). */
export interface AuditActor {
  readonly type: 'user' | 'anonymous';
  readonly name: string;
}

export interface AuditEventInput {
  readonly action: AuditAction;
  /** Overrides the context's actor: logins are recorded as the account's user, or `anonymous` for no account. */
  readonly actor?: AuditActor;
  readonly target?: string;
  readonly outcome?: 'success' | 'failure';
  readonly details?: Record<string, unknown>;
}

/** An audit event as the API returns it (docs/audit.md). */
export interface AuditEvent {
  id: number;
  at: string;
  actor: { type: string; name: string };
  action: string;
  target: string;
  outcome: 'success' | 'failure';
  ip: string;
  requestId: string;
  details: Record<string, unknown>;
}

/**
 * Keys that could carry a secret are dropped from details whatever a caller passes (defence in depth). Rules
 * about secrets (`passwordPolicy`) are settings, not secrets, and stay.
 */
const SECRET_KEY = /^(?!.*policy$).*(pass(word)?|secret|token|hash|recovery|totp|otp)|^code$/i;

function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([key]) => !SECRET_KEY.test(key))
        .map(([key, inner]) => [key, scrub(inner)]),
    );
  }
  return value;
}

/**
 * Before/after of the fields that differ, e.g. `{ before: { role: 'viewer' }, after: { role: 'admin' } }`.
 * Returns null when nothing changed.
 */
export function changedFields<T extends object>(
  before: T,
  after: T,
  fields: readonly (keyof T & string)[],
): { before: Partial<T>; after: Partial<T> } | null {
  const b: Partial<T> = {};
  const a: Partial<T> = {};
  for (const field of fields) {
    if (JSON.stringify(before[field]) !== JSON.stringify(after[field])) {
      b[field] = before[field];
      a[field] = after[field];
    }
  }
  return Object.keys(a).length === 0 ? null : { before: b, after: a };
}

export function toAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    at: toIso(row.at),
    actor: { type: row.actor_type, name: row.actor_name },
    action: row.action,
    target: row.target,
    outcome: row.outcome === 'failure' ? 'failure' : 'success',
    ip: row.ip,
    requestId: row.request_id,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

const CSV_COLUMNS = [
  'id',
  'at',
  'actor',
  'action',
  'target',
  'outcome',
  'ip',
  'requestId',
  'details',
] as const;

function csvCell(value: string): string {
  // Quote always; neutralise spreadsheet formulas (CSV injection) by prefixing a quote mark.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replaceAll('"', '""')}"`;
}

function csvRow(event: AuditEvent): string {
  const cells = [
    String(event.id),
    event.at,
    event.actor.name,
    event.action,
    event.target,
    event.outcome,
    event.ip,
    event.requestId,
    JSON.stringify(event.details),
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** Refusals worth a record: not permitted (403) and conflicts such as the last-admin rule (409). */
function isRefusal(error: unknown): error is AppError {
  return error instanceof AppError && (error.status === 403 || error.status === 409);
}

export interface AuditService {
  /** Writes an event with the caller's transaction, so it commits or rolls back with the change. */
  record(trx: Kysely<Database>, ctx: OperationContext, event: AuditEventInput): Promise<void>;
  /**
   * Runs a write. When it is refused (an AppError with status 403 or 409: not permitted on the target, protected,
   * last admin, conflict), the refusal is recorded as a failed `action` on `target` — in a transaction of its own,
   * since the write's transaction rolled back with everything in it — and the error is rethrown.
   */
  refusable<T>(
    ctx: OperationContext,
    event: { readonly action: AuditAction; readonly target: string },
    work: () => Promise<T>,
  ): Promise<T>;
  list(filter: AuditFilter, page: number, pageSize: number): Promise<{ items: AuditEvent[]; total: number }>;
  /** Lines of a CSV (with header) or JSON-array export, streamed. */
  export(filter: AuditFilter, format: 'csv' | 'json'): AsyncGenerator<string>;
}

/**
 * Told of every event as it is recorded (before its transaction commits): the metrics count login, MFA and
 * throttling outcomes here, from the one place every such outcome passes (docs/metrics.md).
 */
export type AuditObserver = (event: AuditEventInput) => void;

export function createAuditService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  observe?: AuditObserver;
}): AuditService {
  const service: AuditService = {
    async refusable(ctx, event, work) {
      try {
        return await work();
      } catch (error) {
        if (isRefusal(error)) {
          await deps.db.transaction().execute((trx) =>
            service.record(trx, ctx, {
              ...event,
              outcome: 'failure',
              // `error`, not `code`: audit details never keep a key named code (it could be a TOTP code).
              details: {
                error: error.code,
                reason: error.message,
                ...(error.extensions.denial ? { denial: error.extensions.denial } : {}),
              },
            }),
          );
        }
        throw error;
      }
    },

    async record(trx, ctx, event) {
      await insertAuditEvent(trx, {
        at: deps.clock.now(),
        actor_type: event.actor?.type ?? ctx.actor.type,
        actor_name: event.actor?.name ?? actorName(ctx.actor),
        action: event.action,
        target: event.target ?? '',
        outcome: event.outcome ?? 'success',
        ip: ctx.ip,
        request_id: ctx.requestId,
        details: JSON.stringify(scrub(event.details ?? {})),
      });
      deps.observe?.(event);
    },

    async list(filter, page, pageSize) {
      const { rows, total } = await findAuditEvents(deps.db, filter, {
        limit: pageSize,
        offset: (page - 1) * pageSize,
      });
      return { items: rows.map(toAuditEvent), total };
    },

    async *export(filter, format) {
      if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
      else yield '[';
      let first = true;
      for await (const row of iterateAuditEvents(deps.db, filter)) {
        const event = toAuditEvent(row);
        if (format === 'csv') yield csvRow(event);
        else {
          yield `${first ? '' : ','}\n${JSON.stringify(event)}`;
          first = false;
        }
      }
      if (format === 'json') yield '\n]\n';
    },
  };
  return service;
}
