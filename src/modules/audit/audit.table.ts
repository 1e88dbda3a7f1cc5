import type { Generated, Selectable } from 'kysely';

export interface AuditEventsTable {
  id: Generated<number>;
  at: number;
  actor_type: string;
  actor_name: string;
  action: string;
  target: string;
  outcome: string;
  ip: string;
  request_id: string;
  /** JSON object: before/after values of changed fields and the reason of a failure; never secrets. */
  details: string;
}

export type AuditEventRow = Selectable<AuditEventsTable>;
