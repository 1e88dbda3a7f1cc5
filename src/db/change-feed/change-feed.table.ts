import type { Generated, Selectable } from 'kysely';

/** Row of `change_feed` (migration 006): one committed change; ids grow in commit order. */
export interface ChangeFeedTable {
  id: Generated<number>;
  /** The domain event's name (`user.changed`, …). */
  kind: string;
  /** The changed object's natural key (lower-case username, role name, integration id), for diagnostics. */
  key: string;
  /** The event's payload as JSON. */
  payload: string;
  /** Epoch ms of the append. */
  at: number;
}

export type ChangeFeedRow = Selectable<ChangeFeedTable>;
