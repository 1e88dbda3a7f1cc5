import type { Clock } from '../../core/clock.js';
import type { CredentialHasher } from '../../core/crypto/credential-hasher.js';
import { MAX_PASSWORD_LENGTH } from '../../core/crypto/password-hasher.js';
import type { DomainEventBus } from '../../core/events.js';
import { nextLoginStage } from '../auth/login-stage.js';
import type { MfaService } from '../mfa/mfa.service.js';
import { CredentialCache } from '../mqtt/credential-cache.js';
import type { SettingsService } from '../settings/settings.service.js';
import { type ThrottleService, throttledOutcome } from '../throttle/throttle.service.js';
import { createUnblockedMemo } from '../throttle/unblocked-memo.js';
import type { UserReader } from '../users/users.reader.js';
import type { UserRow } from '../users/users.table.js';

/**
 * What a Basic credential resolved to: the user, or why not. `login_incomplete` is a correct password of a user
 * whose login would not be complete with it (MFA enrolled or required, a temporary or expired password): Basic
 * cannot satisfy those steps.
 */
export type BasicOutcome =
  | { readonly ok: true; readonly username: string; readonly cached: boolean }
  | { readonly ok: false; readonly reason: 'invalid' | 'login_incomplete' }
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfter: string };

/** Kinds of user that may present a password over HTTP: people and programs, never devices (MQTT only). */
const HTTP_KINDS = new Set(['person', 'service']);

export type BasicCredentials = ReturnType<typeof createBasicCredentials>;

/**
 * HTTP Basic for forward-auth (docs/forward-auth.md#http-basic): a Warden user's password, verified like a
 * console login — under the same throttle budget per account and per address, argon2id through the bounded pool
 * (or the keyed hash of a generated secret), unknown and refused users against the dummy hash — and then kept in
 * a verified-credential cache (the MQTT one's class, under its own key) so that a proxy asking on every request
 * does not hash every time. The cache forgets a user on any change to it (password, status, MFA, deletion) and
 * everything on a settings change or a feed reset, so a change applies to the next request.
 */
export function createBasicCredentials(deps: {
  clock: Clock;
  hasher: CredentialHasher;
  throttle: ThrottleService;
  settings: SettingsService;
  mfa: Pick<MfaService, 'status'>;
  users: Pick<UserReader, 'findRow'>;
  secretKey: string;
  /** How long a verified credential is trusted without hashing again (default 60 s). */
  ttlMs?: number;
  maxEntries?: number;
}) {
  const cache = new CredentialCache({
    secretKey: deps.secretKey,
    clock: deps.clock,
    ttlMs: deps.ttlMs ?? 60_000,
    maxEntries: deps.maxEntries ?? 10_000,
    purpose: 'warden/forward-auth-basic-cache',
  });
  const unblocked = createUnblockedMemo({
    throttle: deps.throttle,
    clock: deps.clock,
    maxEntries: deps.maxEntries ?? 10_000,
  });

  /** Whether a password would complete a login of this user on its own (no further login step). */
  async function completesLogin(row: UserRow): Promise<boolean> {
    const security = await deps.settings.getSecurity();
    const mfa = await deps.mfa.status(row.id);
    return nextLoginStage(row, mfa, security, deps.clock.now(), { mfaVerified: false }) === 'active';
  }

  /** Active people and services with a local password; an SSO user's kept password is ignored. */
  function usable(row: UserRow | undefined): row is UserRow & { password_hash: string } {
    return (
      row !== undefined &&
      row.active === 1 &&
      HTTP_KINDS.has(row.kind) &&
      row.auth_method === 'local' &&
      row.password_hash !== null
    );
  }

  async function verify(username: string, password: string, ip: string, key: string): Promise<BasicOutcome> {
    const generation = cache.generation(username);
    const row = await deps.users.findRow(username);
    const stored = usable(row) ? row : null;
    // Known before the password is checked, so that a correct one clears the account only when it completes a
    // login (as a console login with the TOTP step pending does not); told to the client only after the check.
    const complete = stored !== null && (await completesLogin(stored));
    let verified: boolean;
    try {
      verified = await deps.throttle.guard(username, ip, { clearAccountOnSuccess: complete }, async () =>
        stored !== null && password.length <= MAX_PASSWORD_LENGTH
          ? deps.hasher.verify(stored.password_hash, password)
          : // unknown, deactivated and refused users cost the same work as real ones
            deps.hasher.verifyDummy(password),
      );
    } catch (error) {
      const throttled = throttledOutcome(error);
      if (throttled) return throttled;
      throw error;
    }
    if (!verified || stored === null) {
      unblocked.forget(username);
      return { ok: false, reason: 'invalid' };
    }
    if (!complete) return { ok: false, reason: 'login_incomplete' };
    cache.set(key, { userId: stored.id, username: stored.username }, generation);
    return { ok: true, username: stored.username, cached: false };
  }

  return {
    /**
     * Resolves `Authorization: Basic <credentials>` (the part after the scheme). Malformed credentials are
     * invalid; a cached credential still asks the throttle (through a one-second memo of "not blocked", as MQTT
     * CONNECTs do), so a blocked account is refused however it was verified before.
     */
    async resolve(encoded: string, ip: string): Promise<BasicOutcome> {
      const decoded = Buffer.from(encoded.trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) return { ok: false, reason: 'invalid' };
      const username = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      const key = cache.keyFor(username, password);
      const cached = cache.get(key);
      if (cached) {
        if (await unblocked.isBlocked(username)) {
          return { ok: false, reason: 'throttled', retryAfter: '1' };
        }
        return { ok: true, username: cached.username, cached: true };
      }
      return verify(username, password, ip, key);
    },

    /**
     * Follows committed changes: any change to a user forgets its credentials; a settings change (MFA required
     * for a role, password age) or a feed reset forgets all. Started with the other caches; returns the stop.
     */
    start(events: DomainEventBus): () => void {
      const offUsers = events.on('user.changed', ({ username }) => cache.dropUser(username));
      const offSettings = events.on('settings.changed', () => cache.clear());
      const offReset = events.on('feed.reset', () => cache.clear());
      return () => {
        offUsers();
        offSettings();
        offReset();
      };
    },
  };
}
