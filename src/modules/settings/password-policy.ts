import { MAX_PASSWORD_LENGTH } from '../../core/crypto/password-hasher.js';
import type { ProblemItem } from '../../core/errors/app-error.js';
import type { PasswordPolicy } from './settings.schemas.js';

/** Every rule the password breaks, one entry each (an empty list means it passes). Pure. */
export function checkPasswordPolicy(policy: PasswordPolicy, password: string): ProblemItem[] {
  const failures: ProblemItem[] = [];
  const length = [...password].length;
  if (length < policy.minLength) {
    failures.push({ rule: 'min_length', message: `at least ${policy.minLength} characters` });
  }
  if (length > MAX_PASSWORD_LENGTH) {
    failures.push({ rule: 'max_length', message: `at most ${MAX_PASSWORD_LENGTH} characters` });
  }
  if (policy.requireUppercase && !/\p{Lu}/u.test(password)) {
    failures.push({ rule: 'uppercase', message: 'an uppercase letter' });
  }
  if (policy.requireLowercase && !/\p{Ll}/u.test(password)) {
    failures.push({ rule: 'lowercase', message: 'a lowercase letter' });
  }
  if (policy.requireDigit && !/\p{Nd}/u.test(password)) {
    failures.push({ rule: 'digit', message: 'a digit' });
  }
  if (policy.requireSpecial && !/[^\p{L}\p{Nd}]/u.test(password)) {
    failures.push({ rule: 'special', message: 'a special character' });
  }
  return failures;
}
