import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export type PasswordOrigin = 'generated' | 'chosen';

/** Row of `users`. Flags are 0/1, times are epoch ms, `scopes` is a JSON array (see migrations 001 and 008). */
export interface UsersTable {
  id: string;
  username: string;
  username_lower: string;
  email: string | null;
  email_lower: string | null;
  description: Generated<string>;
  kind: string;
  role: string;
  scopes: string;
  active: number;
  protected: Generated<number>;
  auth_method: Generated<string>;
  /** The provider of an SSO user (migration 011); kept when the user is switched back to local. */
  sso_provider: string | null;
  /** The provider's `sub` for this user, linked at the first SSO login (unique per provider). */
  sso_subject: string | null;
  /** argon2id (`$argon2id$…`) or the keyed fast hash (`$warden-hmac-sha256$…`): the record names its scheme. */
  password_hash: string | null;
  /** 'generated' (drawn by Warden), 'chosen' (typed by a person), null: set before this was recorded. */
  password_origin: PasswordOrigin | null;
  /** The secret a rotation replaced, accepted for MQTT until `previous_valid_until` (epoch ms). */
  previous_password_hash: string | null;
  previous_valid_until: number | null;
  password_changed_at: number | null;
  must_change_password: Generated<number>;
  session_timeout_minutes: Generated<number>;
  last_login_at: number | null;
  created_at: number;
  updated_at: number;
  version: Generated<number>;
}

export interface PasswordHistoryTable {
  id: string;
  user_id: string;
  password_hash: string;
  created_at: number;
}

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type UserRowUpdate = Updateable<UsersTable>;

/** Users per (role, active), kept exact by triggers (migration 003) so list totals need no count. */
export interface UserCountsTable {
  role: string;
  active: number;
  n: number;
}

/** One row (id 1) whose generation changes whenever the set or order of listed users may have changed. */
export interface UserListGenerationTable {
  id: number;
  generation: number;
}
