import type { PasswordPolicy } from '../../api/types';

export type PasswordRule = 'min_length' | 'uppercase' | 'lowercase' | 'digit' | 'special';

export interface PasswordCheck {
  readonly rule: PasswordRule;
  readonly met: boolean;
}

/**
 * The checklist shown while typing: the rules the policy enables, each met or not. It mirrors the server's
 * checks (Unicode letter classes, length in code points) so a green list means the server accepts it.
 */
export function passwordChecks(policy: PasswordPolicy, password: string): PasswordCheck[] {
  const checks: PasswordCheck[] = [{ rule: 'min_length', met: [...password].length >= policy.minLength }];
  if (policy.requireUppercase) checks.push({ rule: 'uppercase', met: /\p{Lu}/u.test(password) });
  if (policy.requireLowercase) checks.push({ rule: 'lowercase', met: /\p{Ll}/u.test(password) });
  if (policy.requireDigit) checks.push({ rule: 'digit', met: /\p{Nd}/u.test(password) });
  if (policy.requireSpecial) checks.push({ rule: 'special', met: /[^\p{L}\p{Nd}]/u.test(password) });
  return checks;
}
