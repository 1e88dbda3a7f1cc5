import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Row of `users`. Flags are 0/1, times are epoch ms, `scopes` is a JSON array (see migration 001). */
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
  password_hash: string | null;
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
