/** Every action name the audit log can hold; typed so a misspelt action cannot be written. */
export const AUDIT_ACTIONS = [
  'auth.login',
  'auth.logout',
  'auth.mfa',
  'user.create',
  'user.update',
  'user.password_reset',
  'user.password_change',
  'user.deactivate',
  'user.reactivate',
  'user.delete',
  'user.mfa_reset',
  'user.recover_admin',
  'mfa.enroll',
  'mfa.disable',
  'session.revoke',
  'settings.update',
  'access_role.create',
  'access_role.update',
  'access_role.delete',
  'access.denied',
  'mqtt.disconnect',
  'mqtt.connect',
  'broker.update',
  'broker.sync',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];
