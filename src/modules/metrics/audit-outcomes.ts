import type { AuditEventInput } from '../audit/audit.service.js';

/** Failure reasons of `auth.login` (docs/authentication.md); anything else is counted as `other`. */
const LOGIN_REASONS = new Set([
  'unknown_user',
  'wrong_password',
  'inactive',
  'no_console_login',
  'no_password',
  'sso_user',
  'throttled',
  'session_limit',
]);
const MFA_METHODS = new Set(['totp', 'recovery_code']);

/** A tally of label values → count, read at scrape time. */
export type Tally = Map<string, number>;

function add(tally: Tally, key: string): void {
  tally.set(key, (tally.get(key) ?? 0) + 1);
}

/**
 * Login, MFA and throttling outcomes, counted from the audit events as they are recorded — the one place every
 * such outcome passes, with its real reason — so no login path needs its own counting (docs/metrics.md). Plain
 * integers; keys are `outcome/reason`, `outcome/method` and the audit action.
 */
export class AuditOutcomes {
  readonly logins: Tally = new Map();
  readonly mfa: Tally = new Map();
  readonly throttled: Tally = new Map();

  /** The audit service's observer (src/modules/audit/audit.service.ts). */
  readonly observe = (event: AuditEventInput): void => {
    const outcome = event.outcome ?? 'success';
    const reason = event.details?.reason;
    if (outcome === 'failure' && reason === 'throttled') add(this.throttled, event.action);
    if (event.action === 'auth.login') {
      const label =
        outcome === 'success'
          ? 'none'
          : typeof reason === 'string' && LOGIN_REASONS.has(reason)
            ? reason
            : 'other';
      add(this.logins, `${outcome}/${label}`);
    } else if (event.action === 'auth.mfa') {
      const method = event.details?.method;
      add(this.mfa, `${outcome}/${typeof method === 'string' && MFA_METHODS.has(method) ? method : 'none'}`);
    }
  };
}
