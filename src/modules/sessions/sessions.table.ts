import type { Selectable } from 'kysely';

/** Row of `sessions`: only the hash of the token's secret part is stored. */
export interface SessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  /** `active` = full session; other stages allow only the next login step (see SessionStage). */
  stage: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string;
  user_agent: string;
}

export type SessionRow = Selectable<SessionsTable>;
