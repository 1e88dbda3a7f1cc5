import type { Denial } from '../../../src/modules/permissions/permissions.policy';
import { ApiError } from '../api/client';
import { isMessageKey, type Translate } from './i18n';
import type { MessageKey } from './messages.en';

/** What each failed policy rule the server reports (400 password.policy) means, in short words. */
const FAILED_RULE_KEYS = {
  min_length: 'password.failed.min_length',
  max_length: 'password.failed.max_length',
  uppercase: 'password.failed.uppercase',
  lowercase: 'password.failed.lowercase',
  digit: 'password.failed.digit',
  special: 'password.failed.special',
} as const satisfies Record<string, MessageKey>;

function isPasswordRule(rule: string | undefined): rule is keyof typeof FAILED_RULE_KEYS {
  return rule !== undefined && Object.hasOwn(FAILED_RULE_KEYS, rule);
}

/** A list of scopes as the console names them ("User Management or Asset Management"). */
function scopeNames(t: Translate, scopes: readonly string[], joiner: string): string {
  return scopes
    .map((scope) => (isMessageKey(`scope.${scope}`) ? t(`scope.${scope}` as MessageKey) : scope))
    .join(joiner);
}

/** Why a refusal happened, from the problem's machine-readable `denial`; null when it adds nothing. */
export function describeDenial(t: Translate, denial: Denial): string | null {
  switch (denial.reason) {
    case 'role':
      return t('denial.role', { required: t(`role.${denial.required}`), held: t(`role.${denial.held}`) });
    case 'scope':
      return t('denial.scope', { scopes: scopeNames(t, denial.anyOf, ` ${t('common.or')} `) });
    case 'login_stage':
      return t('denial.login_stage');
    case 'grant':
      return denial.role
        ? t('denial.grant_role', { role: t(`role.${denial.role}`) })
        : t('denial.grant_scopes', { scopes: scopeNames(t, denial.scopes ?? [], ', ') });
    case 'target':
      if (denial.why === 'root') return t('denial.target_root', { target: denial.target });
      return denial.role
        ? t('denial.target_role', { target: denial.target, role: t(`role.${denial.role}`) })
        : t('denial.target_scopes', {
            target: denial.target,
            scopes: scopeNames(t, denial.scopes ?? [], ', '),
          });
    default:
      return null;
  }
}

/**
 * A failure in plain words of the chosen language. API problems are translated by their stable `code`
 * (docs/errors.md); the server's English `detail` is never shown, so every language reads the same.
 */
export function describeError(
  t: Translate,
  error: unknown,
  values: Record<string, string | number> = {},
): string {
  if (!(error instanceof ApiError)) return t('error.network');
  const key = `error.${error.code}`;
  if (!isMessageKey(key)) return t('error.unexpected', { code: error.code });
  const rules = error.items
    .map((item) => item.rule)
    .filter(isPasswordRule)
    .map((rule) => t(FAILED_RULE_KEYS[rule]))
    .join(', ');
  const message = t(key, { seconds: error.retryAfterSeconds ?? 60, rules, ...values });
  const why = error.denial ? describeDenial(t, error.denial) : null;
  return why ? `${message} ${why}` : message;
}
