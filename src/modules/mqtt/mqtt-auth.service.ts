import type { Kysely, Transaction } from 'kysely';
import { type Clock, runAt } from '../../core/clock.js';
import type { CredentialHasher } from '../../core/crypto/credential-hasher.js';
import { MAX_PASSWORD_LENGTH } from '../../core/crypto/password-hasher.js';
import { AppError } from '../../core/errors/app-error.js';
import type { DomainEventBus } from '../../core/events.js';
import { GroupCommit } from '../../db/group-commit.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { PresentedCertificate } from '../certificates/certificate-trust.js';
import {
  authenticateWithCertificate,
  type CertificateLoginDeps,
} from '../certificates/mqtt-certificate-login.js';
import { isThrottled, type ThrottlePolicy, type ThrottleService } from '../throttle/throttle.service.js';
import { createUnblockedMemo } from '../throttle/unblocked-memo.js';
import { userTarget } from '../users/users.mapper.js';
import type { UserRow } from '../users/users.table.js';
import { CredentialCache, type VerifiedCredential } from './credential-cache.js';
import type { MqttConnection } from './mqtt-connections.service.js';

/** One MQTT CONNECT as the broker saw it. */
export interface MqttConnectAttempt {
  readonly username: string | undefined;
  readonly password: Buffer | undefined;
  readonly clientId: string;
  readonly ip: string;
  /**
   * The broker identifies the connection by the user Warden answers (the embedded broker), so a token may come
   * without a username. Hook brokers name the client by its CONNECT username in every later request: there a
   * token needs the username it stands for.
   */
  readonly usernameOptional?: boolean;
}

/**
 * Why a CONNECT was refused: `bad_credentials` covers unknown users, wrong passwords, deactivated users and
 * users without a password alike (no user enumeration); `throttled` = too many failures for the account or
 * address; `unavailable` = the hasher is saturated or the database failed; `not_authorized` = a client
 * certificate that authenticates nobody (docs/certificates.md).
 */
export type MqttRefusal = 'bad_credentials' | 'throttled' | 'unavailable' | 'not_authorized';

export type MqttAuthResult =
  | {
      readonly ok: true;
      readonly user: VerifiedCredential;
      readonly verified: 'password' | 'token' | 'cache' | 'certificate';
      /** Opaque handle of the verified credential, for {@link MqttAuthService.hold}. */
      readonly credential: string;
      /**
       * When the credential stops being valid (epoch ms): the end of a rotation's grace period for the previous
       * secret, a token's expiry; null for a current password.
       */
      readonly validUntil: number | null;
      /** With `verified: 'certificate'`: the serial of the client certificate (live revocation closes by it). */
      readonly certificateSerial?: string;
    }
  | { readonly ok: false; readonly reason: MqttRefusal; readonly error?: unknown };

/** What the audit log records as the reason of a refusal (never shown to the client). */
type FailureDetail =
  | 'no_credentials'
  | 'unknown_user'
  | 'inactive'
  | 'no_password'
  | 'password_too_long'
  | 'wrong_password'
  | 'throttled'
  | 'busy';

/**
 * Authenticates CONNECTs whose password is a JWT (src/modules/mqtt-tokens/, docs/mqtt-tokens.md). Verified tokens
 * share the credential cache, with their expiry as the end of their validity.
 */
export interface MqttTokenAuthenticator {
  /** The token in `password` when it has a JWT's shape (recognised without any hashing), else null. */
  recognise(password: Buffer): string | null;
  authenticate(attempt: MqttConnectAttempt, token: string, cache: CredentialCache): Promise<MqttAuthResult>;
}

export interface MqttAuthServiceDeps {
  db: Kysely<Database>;
  clock: Clock;
  hasher: CredentialHasher;
  throttle: ThrottleService;
  audit: AuditService;
  users: { findRow(username: string): Promise<UserRow | undefined> };
  /** Moves a password Warden generated before it recorded so to the keyed hash (the users service). */
  generatedSecrets: { adoptGeneratedSecret(row: UserRow, cleartext: string): Promise<boolean> };
  secretKey: string;
  /** CONNECTs with a token as password; without it every password is verified as a password. */
  tokens?: MqttTokenAuthenticator;
  /** How long a verified credential is trusted without hashing again (default 60 s). */
  credentialTtlMs?: number;
  credentialCacheSize?: number;
  /**
   * Whether this process's view of users can be trusted (the change feed is followed and the database is in
   * reach). When not, every CONNECT is refused as "server unavailable": a cached credential of a user who may
   * have been deactivated meanwhile must not let it in.
   */
  trustworthy?: () => boolean;
  /** Client certificates issued by Warden's CA (the TLS listener's certificate logins). */
  certificates?: CertificateLoginDeps['certificates'];
}

export type MqttAuthService = ReturnType<typeof createMqttAuthService>;

/** Which stored record a password matched, and until when that record is valid (null: no end). */
type Match = { readonly ok: false } | { readonly ok: true; readonly validUntil: number | null };

/** A CONNECT of a user whose records all use the keyed hash. */
interface KeyedLogin {
  readonly attempt: MqttConnectAttempt;
  /** As the client sent it (the throttle counts it case-insensitively). */
  readonly username: string;
  readonly row: UserRow & { password_hash: string };
  readonly password: string;
}

type KeyedOutcome = Match | { readonly ok: false; readonly throttled: true };

/**
 * Authenticates MQTT clients as Warden users (docs/mqtt.md): any kind (person, service, device) with a password,
 * refused when unknown, deactivated or throttled. Each stored record is verified by its own scheme
 * (docs/authentication.md#generated-secrets): a generated secret's keyed hash in microseconds, a chosen
 * password's argon2id through the bounded pool; during a rotation's grace period the previous secret is
 * accepted too. A short-lived verified-credential cache answers reconnects, and identical concurrent attempts
 * are verified once; failures count in the same throttle as console logins.
 */
export function createMqttAuthService(deps: MqttAuthServiceDeps) {
  const { db, clock, hasher, throttle, audit } = deps;
  const cache = new CredentialCache({
    secretKey: deps.secretKey,
    clock,
    ttlMs: deps.credentialTtlMs ?? 60_000,
    maxEntries: deps.credentialCacheSize ?? 100_000,
  });
  const verifying = new Map<string, Promise<MqttAuthResult>>();
  const unblocked = createUnblockedMemo({ throttle, clock, maxEntries: deps.credentialCacheSize ?? 100_000 });

  async function auditAttempt(
    attempt: MqttConnectAttempt,
    username: string,
    outcome: 'success' | 'failure',
    detail: FailureDetail | null,
    trx?: Transaction<Database>,
  ): Promise<void> {
    // Made by the account's user (like a console login), or by nobody known when no account has the name.
    const anonymous = detail === 'unknown_user' || detail === 'no_credentials';
    const record = (inner: Kysely<Database>): Promise<void> =>
      audit.record(
        inner,
        { actor: { type: 'system' }, ip: attempt.ip, requestId: '' },
        {
          action: 'mqtt.connect',
          actor: anonymous
            ? { type: 'anonymous', name: 'anonymous' }
            : { type: 'user', name: `user:${username}` },
          target: userTarget(username),
          outcome,
          details: { clientId: attempt.clientId, ...(detail ? { reason: detail } : {}) },
        },
      );
    await (trx ? record(trx) : db.transaction().execute(record));
  }

  async function refuse(
    attempt: MqttConnectAttempt,
    username: string,
    detail: FailureDetail,
  ): Promise<MqttAuthResult> {
    await auditAttempt(attempt, username, 'failure', detail);
    return refusalOf(detail);
  }

  function refusalOf(detail: FailureDetail): MqttAuthResult {
    const reason: MqttRefusal =
      detail === 'throttled' ? 'throttled' : detail === 'busy' ? 'unavailable' : 'bad_credentials';
    return { ok: false, reason };
  }

  function failureOf(row: UserRow | undefined): FailureDetail | null {
    if (!row) return 'unknown_user';
    if (row.active !== 1) return 'inactive';
    if (!row.password_hash) return 'no_password';
    return null;
  }

  /** The previous secret of a rotation while its grace period runs, else null. */
  function graceRecord(row: UserRow, now: number): { hash: string; until: number } | null {
    const { previous_password_hash: hash, previous_valid_until: until } = row;
    return hash !== null && until !== null && now < until ? { hash, until } : null;
  }

  /**
   * Matches `password` against the current record and, during a grace period, the previous one. Both are
   * checked whenever a grace period runs, so which one matched (or that none did) takes the same work.
   */
  async function match(row: UserRow & { password_hash: string }, password: string): Promise<Match> {
    const grace = graceRecord(row, clock.now());
    const [current, previous] = await Promise.all([
      hasher.verify(row.password_hash, password),
      grace ? hasher.verify(grace.hash, password) : false,
    ]);
    if (current) return { ok: true, validUntil: null };
    return previous && grace ? { ok: true, validUntil: grace.until } : { ok: false };
  }

  /** Whether every record `row` would be checked against uses the keyed hash (no argon2 work at all). */
  function keyedOnly(row: UserRow & { password_hash: string }): boolean {
    const grace = graceRecord(row, clock.now());
    return (
      hasher.schemeOf(row.password_hash) === 'keyed' && (!grace || hasher.schemeOf(grace.hash) === 'keyed')
    );
  }

  /** A verified credential: cached (no longer than it is valid), answered. */
  function accepted(
    row: UserRow,
    cacheKey: string,
    generation: string,
    validUntil: number | null,
  ): MqttAuthResult {
    const user: VerifiedCredential = { userId: row.id, username: row.username };
    cache.set(cacheKey, user, generation, validUntil);
    return { ok: true, user, verified: 'password', credential: cacheKey, validUntil };
  }

  /**
   * Users whose records all use the keyed hash: throttle decision, verification, settlement and audit event in
   * one transaction, shared by the CONNECTs that arrive together (group commit), so a cold reconnect storm of a
   * fleet costs a commit per batch — where the argon2 path needs three commits around each slow hash.
   */
  const keyedLogins = new GroupCommit<KeyedLogin, KeyedOutcome, ThrottlePolicy>(db, {
    prepare: (trx) => throttle.policy(trx),
    async apply(trx, login, policy) {
      const { attempt, username, row, password } = login;
      try {
        const result = await throttle.guardIn(trx, policy, username, attempt.ip, () => match(row, password));
        const detail = result.ok ? null : 'wrong_password';
        await auditAttempt(attempt, row.username, result.ok ? 'success' : 'failure', detail, trx);
        return result;
      } catch (error) {
        if (!isThrottled(error)) throw error;
        await auditAttempt(attempt, username, 'failure', 'throttled', trx);
        return { ok: false, throttled: true };
      }
    },
  });

  async function verifyKeyed(
    login: KeyedLogin,
    cacheKey: string,
    generation: string,
  ): Promise<MqttAuthResult> {
    const outcome = await keyedLogins.submit(login);
    if (!outcome.ok) {
      if ('throttled' in outcome) return refusalOf('throttled');
      unblocked.forget(login.username);
      return refusalOf('wrong_password');
    }
    return accepted(login.row, cacheKey, generation, outcome.validUntil);
  }

  /** Verifies one CONNECT: the keyed path when it applies, else throttle reservation, argon2 (or dummy), bookkeeping. */
  async function verify(
    attempt: MqttConnectAttempt,
    username: string,
    password: string,
    cacheKey: string,
  ): Promise<MqttAuthResult> {
    const generation = cache.generation(username);
    const row = await deps.users.findRow(username);
    let failure = password.length > MAX_PASSWORD_LENGTH ? 'password_too_long' : failureOf(row);
    const stored =
      failure === null && row?.password_hash ? { ...row, password_hash: row.password_hash } : null;
    if (stored && keyedOnly(stored)) {
      return verifyKeyed({ attempt, username, row: stored, password }, cacheKey, generation);
    }
    try {
      await throttle.reserve(username, attempt.ip);
    } catch (error) {
      if (error instanceof AppError && error.code === 'auth.throttled') {
        return refuse(attempt, username, 'throttled');
      }
      throw error;
    }
    let matched: Match;
    try {
      // An over-long password is refused unhashed: its length is no secret, and hashing it would be wasted work.
      // Unknown, inactive and password-less users cost an argon2id verification all the same.
      matched = stored
        ? await match(stored, password)
        : failure === 'password_too_long'
          ? { ok: false }
          : { ok: await hasher.verifyDummy(password) };
    } catch (error) {
      // The verification never ran: the account and the address get their reservation back.
      await throttle.release(username, attempt.ip);
      if (error instanceof AppError && error.code === 'server.busy') return refuse(attempt, username, 'busy');
      throw error;
    }
    if (failure === null && !matched.ok) failure = 'wrong_password';
    if (failure !== null || !stored || !matched.ok) {
      unblocked.forget(username);
      await throttle.failed(username);
      return refuse(attempt, row?.username ?? username, failure ?? 'unknown_user');
    }
    await throttle.succeeded(username, attempt.ip, { clearAccount: true });
    await auditAttempt(attempt, stored.username, 'success', null);
    if (matched.validUntil === null) {
      // Best effort: a failed write leaves the argon2 record, which the next successful CONNECT moves instead.
      await deps.generatedSecrets.adoptGeneratedSecret(stored, password).catch(() => false);
    }
    return accepted(stored, cacheKey, generation, matched.validUntil);
  }

  return {
    /**
     * Follows committed user changes: a changed password, a deactivation or a deletion drops the user's cached
     * credentials at once (after a rotation with a grace period the previous secret is verified again, against
     * its grace record). Only a process that serves MQTT starts this (src/server.ts); returns the stop function.
     */
    start(events: DomainEventBus): () => void {
      const offUsers = events.on('user.changed', ({ username, change }) => {
        if (change === 'password' || change === 'deactivated' || change === 'deleted')
          cache.dropUser(username);
      });
      // Changes may have been missed: no credential verified before can be trusted any more.
      const offReset = events.on('feed.reset', () => cache.clear());
      return () => {
        offUsers();
        offReset();
      };
    },

    /** Decides one CONNECT. Never throws: unexpected failures answer `unavailable` with the error attached. */
    async authenticate(attempt: MqttConnectAttempt): Promise<MqttAuthResult> {
      const username = attempt.username ?? '';
      if (deps.trustworthy && !deps.trustworthy()) {
        return { ok: false, reason: 'unavailable', error: new Error('not in touch with the change feed') };
      }
      try {
        const token = attempt.password && deps.tokens ? deps.tokens.recognise(attempt.password) : null;
        if (token !== null && deps.tokens) return await deps.tokens.authenticate(attempt, token, cache);
        if (username === '' || attempt.password === undefined) {
          return await refuse(attempt, username, 'no_credentials');
        }
        const password = attempt.password.toString('utf8');
        const cacheKey = cache.keyFor(username, password);
        const cached = cache.get(cacheKey);
        if (cached) {
          // A verification asks the throttle itself (reserve, guardIn); a cached credential must not bypass it.
          if (await unblocked.isBlocked(username)) return await refuse(attempt, username, 'throttled');
          return {
            ok: true,
            user: cached,
            verified: 'cache',
            credential: cacheKey,
            validUntil: cached.validUntil,
          };
        }
        // A storm of one device's reconnects (same credentials) costs one verification, not one each.
        let pending = verifying.get(cacheKey);
        if (!pending) {
          pending = verify(attempt, username, password, cacheKey).finally(() => verifying.delete(cacheKey));
          verifying.set(cacheKey, pending);
        }
        return await pending;
      } catch (error) {
        return { ok: false, reason: 'unavailable', error };
      }
    },

    /**
     * Decides a CONNECT that presented a client certificate on the TLS listener (docs/certificates.md). Never
     * throws: unexpected failures answer `unavailable` with the error attached.
     */
    async authenticateCertificate(
      attempt: MqttConnectAttempt,
      presented: PresentedCertificate,
    ): Promise<MqttAuthResult> {
      if (deps.trustworthy && !deps.trustworthy()) {
        return { ok: false, reason: 'unavailable', error: new Error('not in touch with the change feed') };
      }
      if (!deps.certificates) return { ok: false, reason: 'not_authorized' };
      try {
        return await authenticateWithCertificate(
          { db, audit, certificates: deps.certificates },
          attempt,
          presented,
        );
      } catch (error) {
        return { ok: false, reason: 'unavailable', error };
      }
    },

    /**
     * A connection authenticated with `credential` stays open: the credential is trusted while it does and for
     * the cache's lifetime after the returned release function is called (when the connection closes). A
     * credential with an end (a previous secret in its grace period, a token, a client certificate) closes
     * `connection` when it ends: `validUntil` as authentication answered it (the cache may have dropped the entry
     * since).
     */
    hold(
      credential: string,
      connection: Pick<MqttConnection, 'close'>,
      validUntil: number | null = cache.validUntil(credential),
    ): () => void {
      const release = cache.pin(credential);
      const cancel = validUntil === null ? () => {} : runAt(clock, validUntil, () => connection.close());
      return () => {
        cancel();
        release();
      };
    },

    /** Entries in the verified-credential cache (for benchmarks and diagnostics). */
    get cachedCredentials(): number {
      return cache.size;
    },
  };
}
