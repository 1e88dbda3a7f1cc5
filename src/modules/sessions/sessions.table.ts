import type { Generated, Insertable, Selectable } from 'kysely';

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
  /** The SSO provider a single sign-on came from (migration 014); null for a password login. */
  sso_provider: Generated<string | null>;
  /** That sign-in's ID token, sealed with the secret box (the `id_token_hint` of RP-initiated logout). */
  sso_id_token_sealed: Generated<string | null>;
}

export type SessionRow = Selectable<SessionsTable>;
export type NewSessionRow = Insertable<SessionsTable>;
