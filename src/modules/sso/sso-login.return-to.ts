/** Where a sign-in lands when it names no acceptable place: the console's home. */
export const DEFAULT_RETURN_TO = '/';

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** An origin no real request has, to resolve a path against (only whether it stays on it matters). */
const PROBE_ORIGIN = 'https://warden.invalid';

/**
 * The place a sign-in returns to, as the console's own rule for `/login?returnTo=` decides it
 * (web/src/pages/login/return-to.ts): a path on this origin — starting with a single `/` (never `//`, which a
 * browser reads as another host, nor `/\`), without backslashes, whitespace or control characters — else `/`.
 * So the parameter can never send a user to another site after signing in.
 */
export function safeReturnTo(value: string | undefined): string {
  if (!value || value.length > 2000) return DEFAULT_RETURN_TO;
  if (!value.startsWith('/') || value.startsWith('//')) return DEFAULT_RETURN_TO;
  // A backslash reads as a slash in browsers (`/\evil.example`); whitespace and controls have no place in a path.
  if (/[\\\s]/.test(value) || hasControlCharacter(value)) return DEFAULT_RETURN_TO;
  try {
    const url = new URL(value, PROBE_ORIGIN);
    return url.origin === PROBE_ORIGIN ? `${url.pathname}${url.search}${url.hash}` : DEFAULT_RETURN_TO;
  } catch {
    return DEFAULT_RETURN_TO;
  }
}
