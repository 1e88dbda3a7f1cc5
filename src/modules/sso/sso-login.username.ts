import { NAME_PATTERN } from '../../http/common-schemas.js';

const VALID = new RegExp(NAME_PATTERN);
const MAX_LENGTH = 50;
/** How many numbered variants (`alice-2` … `alice-20`) of each base are tried before giving up on it. */
const VARIANTS = 20;

/** `text` made into a username (3–50 of `[A-Za-z0-9_.-]`), or null when too little of it is left. */
function asUsername(text: string): string | null {
  const cleaned = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents dropped: "José" → "Jose"
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, MAX_LENGTH);
  return VALID.test(cleaned) ? cleaned : null;
}

/**
 * The usernames to try for a user an SSO sign-in provisions, best first (docs/sso.md#signing-in): the provider's
 * `preferred_username` (its local part when it is an address), then the email's local part, each as it is and
 * then numbered (`alice-2`, `alice-3`, …). Pure; the caller takes the first one no user has.
 */
export function usernameCandidates(claims: {
  readonly preferredUsername?: unknown;
  readonly email: string;
}): string[] {
  const bases: string[] = [];
  const add = (text: unknown): void => {
    if (typeof text !== 'string') return;
    const local = text.includes('@') ? text.slice(0, text.lastIndexOf('@')) : text;
    const name = asUsername(local);
    if (name && !bases.some((base) => base.toLowerCase() === name.toLowerCase())) bases.push(name);
  };
  add(claims.preferredUsername);
  add(claims.email);
  if (bases.length === 0) bases.push('sso-user');
  return bases.flatMap((base) => [
    base,
    ...Array.from({ length: VARIANTS - 1 }, (_, i) => {
      const suffix = `-${i + 2}`;
      return `${base.slice(0, MAX_LENGTH - suffix.length)}${suffix}`;
    }),
  ]);
}
