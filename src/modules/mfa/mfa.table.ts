import type { Selectable } from 'kysely';

/**
 * Row of `user_mfa` (migration 005): a user's TOTP authenticator and enrolment duty. Users without a row have no
 * MFA state at all. `totp_secret` is sealed with the secret box for the user's id; `enabled` turns it on once a
 * code confirmed it; `totp_last_step` is the last time step used, so a code works once.
 */
export interface UserMfaTable {
  user_id: string;
  enabled: number;
  enroll_required: number;
  totp_secret: string | null;
  totp_last_step: number | null;
  updated_at: number;
}

export type UserMfaRow = Selectable<UserMfaTable>;

export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  code_hash: string;
  used_at: number | null;
}
