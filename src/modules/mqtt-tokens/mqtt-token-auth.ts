import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { CredentialCache } from '../mqtt/credential-cache.js';
import type {
  MqttAuthResult,
  MqttConnectAttempt,
  MqttRefusal,
  MqttTokenAuthenticator,
} from '../mqtt/mqtt-auth.service.js';
import { linkedSsoUser, unlinkedSsoUsersOf } from '../sso/sso-user-match.js';
import { isThrottled, type ThrottleService } from '../throttle/throttle.service.js';
import { userTarget } from '../users/users.mapper.js';
import type { UserReader } from '../users/users.reader.js';
import type { UserRow } from '../users/users.table.js';
import { recogniseJwt } from './jwt-shape.js';
import {
  CLOCK_TOLERANCE_SECONDS,
  methodOf,
  type TokenFailure,
  type TokenMethod,
  type TokenVerifier,
  type VerifiedToken,
} from './token-verifier.js';

/** Why a token CONNECT was refused, as the audit log records it (the client learns only its CONNACK code). */
type RefusalDetail =
  | TokenFailure
  | 'username_required'
  | 'no_linked_user'
  | 'ambiguous_email'
  | 'unknown_user'
  | 'username_mismatch'
  | 'inactive'
  | 'throttled';

/** Addresses remembered as over their budget, at most (a flood of addresses cannot grow the map without end). */
const MAX_BLOCKED_ADDRESSES = 10_000;

export interface MqttTokenAuthDeps {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly audit: AuditService;
  readonly throttle: Pick<ThrottleService, 'addressFailed'>;
  readonly users: Pick<UserReader, 'findRowById' | 'findRowBySsoSubject' | 'findRowsByEmail'>;
  readonly verifier: TokenVerifier;
}

/** The user a verified token stands for, or why none. */
type Mapping = { readonly row: UserRow } | { readonly refused: RefusalDetail };

/**
 * MQTT CONNECTs with a JWT as password (docs/mqtt-tokens.md): the token is verified, mapped to a Warden user —
 * a Warden token names the user's id; a provider token maps by (provider, `sub`) to the user linked to that
 * subject, else by the provider's verified email among its SSO users not linked yet — and accepted when the user is
 * active and the CONNECT's username (if any) is that user's. The credential is cached until the token's expiry
 * (with the clock tolerance), no longer; live connections are registered under the user like password ones, so
 * deactivation closes them, and the broker closes each when its token expires.
 *
 * Throttling: a refused token counts against its address's own budget (`throttle.maxAttemptsPerIp` per window,
 * apart from the password budget), and never against an account: the account an unverified token names is the
 * sender's choice, and a token cannot be guessed anyway. An address over its budget is refused before any
 * verification.
 */
export function createMqttTokenAuthenticator(deps: MqttTokenAuthDeps): MqttTokenAuthenticator {
  const { db, clock, audit, verifier } = deps;
  const blockedAddresses = new Map<string, number>();

  async function record(
    attempt: MqttConnectAttempt,
    user: string | null,
    outcome: 'success' | 'failure',
    details: Record<string, unknown>,
  ): Promise<void> {
    const given = attempt.username ?? '';
    const target = user ?? given;
    await db.transaction().execute((trx) =>
      audit.record(
        trx,
        { actor: { type: 'system' }, ip: attempt.ip, requestId: '' },
        {
          action: 'mqtt.connect',
          actor: user ? { type: 'user', name: `user:${user}` } : { type: 'anonymous', name: 'anonymous' },
          target: target === '' ? `mqtt_client:${attempt.clientId}` : userTarget(target),
          outcome,
          details: {
            clientId: attempt.clientId,
            ...details,
            ...(user && given !== '' && given.toLowerCase() !== user.toLowerCase()
              ? { connectUsername: given }
              : {}),
          },
        },
      ),
    );
  }

  function isBlocked(ip: string): boolean {
    const until = blockedAddresses.get(ip);
    if (until === undefined) return false;
    if (clock.now() < until) return true;
    blockedAddresses.delete(ip);
    return false;
  }

  function rememberBlocked(ip: string, until: number): void {
    const now = clock.now();
    if (blockedAddresses.size >= MAX_BLOCKED_ADDRESSES) {
      for (const [address, end] of blockedAddresses) if (end <= now) blockedAddresses.delete(address);
    }
    if (blockedAddresses.size < MAX_BLOCKED_ADDRESSES) blockedAddresses.set(ip, until);
  }

  /** Counts a refused token against its address (none for hooks that do not pass one). */
  async function addressFailed(ip: string): Promise<void> {
    if (ip === '') return;
    try {
      const spentUntil = await deps.throttle.addressFailed('mqtt_token', ip);
      if (spentUntil > 0) rememberBlocked(ip, spentUntil);
    } catch (error) {
      // Spent already (by another instance, or before this process started): blocked for the window's rest.
      if (!isThrottled(error)) throw error;
      const retryAfter = Number(
        (error as { headers?: Record<string, string> }).headers?.['retry-after'] ?? 1,
      );
      rememberBlocked(ip, clock.now() + retryAfter * 1000);
    }
  }

  async function refuse(
    attempt: MqttConnectAttempt,
    detail: RefusalDetail,
    context: { method: TokenMethod; provider?: string; user?: string; error?: unknown },
  ): Promise<MqttAuthResult> {
    if (detail !== 'throttled' && detail !== 'provider_unavailable') await addressFailed(attempt.ip);
    await record(attempt, context.user ?? null, 'failure', {
      method: context.method,
      ...(context.provider ? { provider: context.provider } : {}),
      reason: detail,
    });
    const reason: MqttRefusal =
      detail === 'throttled'
        ? 'throttled'
        : detail === 'provider_unavailable'
          ? 'unavailable'
          : 'bad_credentials';
    // An unreachable provider is the operator's to fix: the broker logs the cause (never the token).
    return context.error === undefined ? { ok: false, reason } : { ok: false, reason, error: context.error };
  }

  /** The user a verified token stands for. */
  async function mapToUser(verified: Extract<VerifiedToken, { ok: true }>): Promise<Mapping> {
    if (verified.method === 'warden_token') {
      const row = await deps.users.findRowById(verified.userId);
      return row ? { row } : { refused: 'unknown_user' };
    }
    const linked = linkedSsoUser(
      await deps.users.findRowBySsoSubject(verified.provider.name, verified.subject),
    );
    if (linked) return { row: linked };
    if (verified.verifiedEmail === null) return { refused: 'no_linked_user' };
    const candidates = unlinkedSsoUsersOf(
      verified.provider.name,
      await deps.users.findRowsByEmail(verified.verifiedEmail),
    );
    const [only] = candidates;
    if (!only) return { refused: 'no_linked_user' };
    return candidates.length === 1 ? { row: only } : { refused: 'ambiguous_email' };
  }

  async function verify(
    attempt: MqttConnectAttempt,
    token: string,
    cacheKey: string,
    cache: CredentialCache,
  ): Promise<MqttAuthResult> {
    const verified = await verifier.verify(token);
    if (!verified.ok) {
      return refuse(attempt, verified.reason, {
        method: verified.method,
        ...(verified.provider ? { provider: verified.provider } : {}),
        ...(verified.error === undefined ? {} : { error: verified.error }),
      });
    }
    const method = verified.method;
    const provider = verified.method === 'oidc_token' ? { provider: verified.provider.name } : {};
    const mapped = await mapToUser(verified);
    if ('refused' in mapped) return refuse(attempt, mapped.refused, { method, ...provider });
    // The generation is read before the row that decides: a deactivation committed after this read drops the
    // user's generation, and the result below is then not cached.
    const generation = cache.generation(mapped.row.username);
    const row = await deps.users.findRowById(mapped.row.id);
    if (!row) return refuse(attempt, 'unknown_user', { method, ...provider });
    const given = attempt.username ?? '';
    const user = { method, ...provider, user: row.username };
    if (given !== '' && given.toLowerCase() !== row.username_lower)
      return refuse(attempt, 'username_mismatch', user);
    if (row.active !== 1) return refuse(attempt, 'inactive', user);
    const validUntil = (verified.exp + CLOCK_TOLERANCE_SECONDS) * 1000;
    const credential = { userId: row.id, username: row.username };
    cache.set(cacheKey, credential, generation, validUntil);
    await record(attempt, row.username, 'success', {
      method,
      ...provider,
      ...(verified.method === 'warden_token' ? { jti: verified.jti } : {}),
    });
    return { ok: true, user: credential, verified: 'token', credential: cacheKey, validUntil };
  }

  return {
    recognise: recogniseJwt,

    async authenticate(attempt, token, cache) {
      const given = attempt.username ?? '';
      const method = methodOf(token);
      if (given === '' && !attempt.usernameOptional) {
        return refuse(attempt, 'username_required', { method });
      }
      if (attempt.ip !== '' && isBlocked(attempt.ip)) return refuse(attempt, 'throttled', { method });
      // Keyed by the CONNECT's username too: the same token with another (or no) username is checked afresh.
      const cacheKey = cache.keyFor(given, token);
      const cached = cache.get(cacheKey);
      if (cached && (await verifier.stillTrusted(token))) {
        return {
          ok: true,
          user: cached,
          verified: 'cache',
          credential: cacheKey,
          validUntil: cached.validUntil,
        };
      }
      return verify(attempt, token, cacheKey, cache);
    },
  };
}
