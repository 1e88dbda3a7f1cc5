import type { MfaStatus } from '../mfa/mfa.service.js';
import type { SessionStage } from '../permissions/permissions.policy.js';
import type { SecuritySettings } from '../settings/settings.schemas.js';
import type { UserRow } from '../users/users.table.js';

const DAY_MS = 86_400_000;

export function passwordExpired(user: UserRow, security: SecuritySettings, now: number): boolean {
  const { maxAgeDays } = security.passwordPolicy;
  return (
    maxAgeDays > 0 &&
    user.password_changed_at !== null &&
    now - user.password_changed_at > maxAgeDays * DAY_MS
  );
}

export function mfaRequired(user: UserRow, mfa: MfaStatus, security: SecuritySettings): boolean {
  return mfa.enrollRequired || (security.mfaRequiredRoles as readonly string[]).includes(user.role);
}

/**
 * The next step of a login after the password was verified, in a fixed order: prove the second factor, then
 * replace an expired or temporary password, then enrol MFA when it is required. `active` = complete. Pure.
 */
export function nextLoginStage(
  user: UserRow,
  mfa: MfaStatus,
  security: SecuritySettings,
  now: number,
  progress: { mfaVerified: boolean },
): SessionStage {
  if (mfa.enabled && !progress.mfaVerified) return 'mfa';
  if (user.must_change_password === 1 || passwordExpired(user, security, now)) return 'password_change';
  if (!mfa.enabled && mfaRequired(user, mfa, security)) return 'mfa_enroll';
  return 'active';
}

/** The `next` member of login answers: null once the session is complete. */
export function nextStep(stage: SessionStage): Exclude<SessionStage, 'active'> | null {
  return stage === 'active' ? null : stage;
}
