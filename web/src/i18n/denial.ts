// With extensions: test/console checks these words under Node's module resolution.
import type { Denial } from '../../../src/modules/permissions/permissions.policy.js';
import { en, type MessageKey } from './messages.en.js';
import type { Translate } from './translate.js';

function isScopeKey(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}

/** A list of scopes as the console names them ("User Management or Asset Management"). */
function scopeNames(t: Translate, scopes: readonly string[], joiner: string): string {
  return scopes
    .map((scope) => (isScopeKey(`scope.${scope}`) ? t(`scope.${scope}` as MessageKey) : scope))
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
    case 'session_only':
      return t('denial.session_only');
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
