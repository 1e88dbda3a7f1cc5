import type { SecretBox } from '../../core/crypto/secret-box.js';

/** How long a started sign-in may take at the provider before its callback is refused. */
export const SIGN_IN_STATE_TTL_MS = 10 * 60_000;

/** The cookie that carries a sign-in in progress from the start route to the callback. */
export const SIGN_IN_STATE_COOKIE = 'warden_sso';

/**
 * What the callback needs of the sign-in it finishes. Kept in the browser, sealed (AES-256-GCM under the secret
 * box, bound to the provider's name), so any instance sharing the secret key can finish a sign-in that another one
 * started, and nothing is stored for sign-ins that are never finished.
 */
export interface SignInState {
  readonly provider: string;
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** The exact redirect URI sent to the provider (the token request must repeat it). */
  readonly redirectUri: string;
  /** Where to go afterwards: a same-origin path (checked when the sign-in started). */
  readonly returnTo: string;
  /** Epoch ms after which the callback is refused. */
  readonly expiresAt: number;
}

function context(provider: string): string {
  return `sso-sign-in:${provider}`;
}

export function sealSignInState(box: SecretBox, state: SignInState): string {
  return box.seal(Buffer.from(JSON.stringify(state), 'utf8'), context(state.provider));
}

function isSignInState(value: unknown): value is SignInState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    ['provider', 'state', 'nonce', 'codeVerifier', 'redirectUri', 'returnTo'].every(
      (key) => typeof v[key] === 'string',
    ) && typeof v.expiresAt === 'number'
  );
}

/**
 * The sign-in sealed in `sealed` for `provider`, or null when it is missing, tampered with, sealed for another
 * provider or with another key, or expired at `now`.
 */
export function openSignInState(
  box: SecretBox,
  sealed: string | undefined,
  provider: string,
  now: number,
): SignInState | null {
  if (!sealed) return null;
  const opened = box.open(sealed, context(provider));
  if (opened === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(opened).toString('utf8'));
  } catch {
    return null;
  }
  if (!isSignInState(value) || value.provider !== provider || now >= value.expiresAt) return null;
  return value;
}
