function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Where to go after a completed login when a reverse proxy sent the browser to the console
 * (docs/forward-auth.md#signing-in-and-coming-back): `/login?returnTo=<path>`. Proxies append the original
 * request target unencoded (nginx: `$request_uri`), so its own `?` and `&` are part of it: `returnTo` must be
 * the last parameter and everything after `returnTo=` is the path. A percent-encoded value (`%2F…`, as
 * `encodeURIComponent` writes it) is decoded once.
 *
 * Only a same-origin path is accepted: it starts with a single `/` (never `//`, which a browser reads as another
 * host, nor `/\`), holds no backslash, whitespace or control character, and resolves to this origin. Anything
 * else is null (the login then goes to the console's home), so the parameter can never send a user elsewhere.
 */
export function returnToFromSearch(search: string, origin: string): string | null {
  const match = /(?:^\?|&)returnTo=(.*)$/s.exec(search);
  if (!match) return null;
  let value = match[1] ?? '';
  if (/^%2f/i.test(value)) {
    try {
      value = decodeURIComponent(value);
    } catch {
      return null;
    }
  }
  if (!value.startsWith('/') || value.startsWith('//')) return null;
  // a backslash reads as a slash in browsers (`/\evil.example`); whitespace and controls have no place in a path
  if (/[\\\s]/.test(value) || hasControlCharacter(value)) return null;
  try {
    const url = new URL(value, origin);
    return url.origin === origin ? `${url.pathname}${url.search}${url.hash}` : null;
  } catch {
    return null;
  }
}
