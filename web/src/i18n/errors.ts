import { ApiError } from '../api/client';
import { describeDenial } from './denial';
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
