import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { CredentialHasher } from '../../core/crypto/credential-hasher.js';
import { AppError } from '../../core/errors/app-error.js';
import type { ChangeFeed } from '../../db/change-feed/change-feed.js';
import type { Engine } from '../../db/database.js';
import { lockFor } from '../../db/dialects/locks.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { MfaLoginInput } from '../mfa/mfa.schemas.js';
import type { MfaService } from '../mfa/mfa.service.js';
import type { OperationContext, SelfContext } from '../permissions/operation-context.js';
import type { SessionStage } from '../permissions/permissions.policy.js';
import { sessionError } from '../sessions/sessions.errors.js';
import type { ClientMeta, ResolvedSession, SessionsService } from '../sessions/sessions.service.js';
import type { SettingsService } from '../settings/settings.service.js';
import { isThrottled, type ThrottleService } from '../throttle/throttle.service.js';
import { userError } from '../users/users.errors.js';
import { userTarget } from '../users/users.mapper.js';
import type { UserReader } from '../users/users.reader.js';
import type { PublicUser } from '../users/users.schemas.js';
import type { UsersService } from '../users/users.service.js';
import type { UserRow } from '../users/users.table.js';
import { authError } from './auth.errors.js';
import { nextLoginStage, nextStep } from './login-stage.js';

export type NextStep = Exclude<SessionStage, 'active'> | null;

export interface LoginResult {
  token: string;
  user: PublicUser;
  next: NextStep;
}

/** Where a login stands after a step: the next step, and the new session token (the old one is void). */
export interface LoginProgress {
  readonly next: NextStep;
  readonly token: string;
}

/** Why a login failed: written to the audit log only; the client always sees auth.invalid_credentials. */
type FailureReason =
  | 'unknown_user'
  | 'wrong_password'
  | 'inactive'
  | 'no_console_login'
  | 'no_password'
  | 'sso_user'
  | 'throttled';

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService(deps: {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  hasher: CredentialHasher;
  audit: AuditService;
  settings: SettingsService;
  sessions: SessionsService;
  users: Pick<UsersService, 'get' | 'changeOwnPassword' | 'recordLogin'>;
  userReader: UserReader;
  throttle: ThrottleService;
  mfa: MfaService;
  /** Ended sessions reach the caches that follow them (forward-auth) before a logout answers. */
  changes: Pick<ChangeFeed, 'settled'>;
}) {
  const { db, clock, audit } = deps;

  function anonymousContext(meta: ClientMeta, requestId: string): OperationContext {
    return { actor: { type: 'system' }, ip: meta.ip, requestId };
  }

  async function auditLogin(
    ctx: OperationContext,
    account: { username: string; exists: boolean },
    outcome: 'success' | 'failure',
    details: Record<string, unknown>,
    trx: Kysely<Database> = db,
  ): Promise<void> {
    // A login is made by the account's user (searchable as actor and target); an attempt on a name no account
    // has is made by nobody known: `anonymous`.
    await audit.record(trx, ctx, {
      action: 'auth.login',
      actor: account.exists
        ? { type: 'user', name: `user:${account.username}` }
        : { type: 'anonymous', name: 'anonymous' },
      target: userTarget(account.username),
      outcome,
      details,
    });
  }

  /** Why this row may not log in at all (before looking at the password), or null. */
  function refusal(row: UserRow | undefined): FailureReason | null {
    if (!row) return 'unknown_user';
    if (row.active !== 1) return 'inactive';
    if (row.kind !== 'person') return 'no_console_login';
    // An SSO user signs in at its provider; a password kept from before the switch is ignored.
    if (row.auth_method === 'sso') return 'sso_user';
    if (!row.password_hash) return 'no_password';
    return null;
  }

  /** Reserves a throttled verification; a refused (429) attempt is audited by `onThrottled` first. */
  async function reserve(username: string, ip: string, onThrottled: () => Promise<void>): Promise<void> {
    try {
      await deps.throttle.reserve(username, ip);
    } catch (error) {
      if (isThrottled(error)) await onThrottled();
      throw error;
    }
  }

  /**
   * Moves a pending session on after one login step (MFA verified, password replaced, MFA enrolled): the session
   * gets a new token (the one that was presented at the earlier step is void, so a token planted before the step
   * never becomes a full session) and the next step; the login completes when none is left.
   */
  async function advance(
    trx: Kysely<Database>,
    sessionId: string,
    user: UserRow,
    progress: { mfaVerified: boolean },
  ): Promise<LoginProgress> {
    const security = await deps.settings.getSecurity(trx);
    const fresh = (await deps.userReader.findRowById(user.id, trx)) ?? user;
    const stage = nextLoginStage(
      fresh,
      await deps.mfa.status(fresh.id, trx),
      security,
      clock.now(),
      progress,
    );
    const { token } = await deps.sessions.rotate(trx, sessionId, stage);
    if (stage === 'active') await deps.users.recordLogin(trx, fresh.id, clock.now());
    return { next: nextStep(stage), token };
  }

  /**
   * After a self-service step that a pending session was held at (`password_change`, `mfa_enroll`): the next
   * login step with the session's new token, or null when the session was already complete (it stays as it is).
   */
  async function continueLogin(
    session: ResolvedSession,
    heldAt: SessionStage,
  ): Promise<LoginProgress | null> {
    if (session.stage !== heldAt) return null;
    // Being held at a later stage means the second factor, if any, was already verified.
    return db
      .transaction()
      .execute((trx) => advance(trx, session.session.id, session.user, { mfaVerified: true }));
  }

  return {
    /**
     * Verifies username and password under the throttle (argon2id through the bounded pool; unknown and inactive
     * users against a dummy hash so every failure costs the same), then starts a session at the right login
     * stage. Every outcome is audited with its real reason; the client sees one answer for all failures.
     */
    async login(
      meta: ClientMeta,
      requestId: string,
      username: string,
      password: string,
    ): Promise<LoginResult> {
      // Under a flood, refuse before touching the database for a verification that could not run anyway.
      deps.hasher.assertCapacity();
      const ctx = anonymousContext(meta, requestId);
      const row = await deps.userReader.findRow(username);
      const account = { username: row?.username ?? username, exists: row !== undefined };
      const refused = refusal(row);
      await reserve(username, meta.ip, () => auditLogin(ctx, account, 'failure', { reason: 'throttled' }));
      let verified: boolean;
      try {
        verified =
          refused === null && row?.password_hash
            ? await deps.hasher.verify(row.password_hash, password)
            : await deps.hasher.verifyDummy(password);
      } catch (error) {
        // 503 server.busy: nothing was verified, so the attempt costs nothing.
        await deps.throttle.release(username, meta.ip);
        throw error;
      }
      if (refused !== null || !verified || !row) {
        await db.transaction().execute(async (trx) => {
          await deps.throttle.failed(username, trx);
          await auditLogin(ctx, account, 'failure', { reason: refused ?? 'wrong_password' }, trx);
        });
        throw authError('auth.invalid_credentials', 'Invalid username or password');
      }

      const security = await deps.settings.getSecurity();
      const loginAt = clock.now();
      const stage = nextLoginStage(row, await deps.mfa.status(row.id), security, loginAt, {
        mfaVerified: false,
      });
      // One transaction settles the throttle, checks the session cap and starts the session: one commit per
      // login (each is a disk sync on SQLite), and the cap is checked under the throttle's lock, so racing
      // logins cannot both take the last slot.
      const token = await db.transaction().execute(async (trx) => {
        // With a second factor still to come, a correct password does not reset the account's budget.
        await deps.throttle.succeeded(username, meta.ip, { clearAccount: stage !== 'mfa' }, trx);
        if (row.role !== 'admin' && security.maxConcurrentSessions > 0) {
          await lockFor(trx, deps.engine, 'throttle');
          const live = await deps.sessions.countLiveNonAdmin(trx);
          if (live >= security.maxConcurrentSessions) {
            await auditLogin(ctx, account, 'failure', { reason: 'session_limit', live }, trx);
            return null;
          }
        }
        const started = await deps.sessions.start(trx, row, stage, meta);
        if (stage === 'active') await deps.users.recordLogin(trx, row.id, loginAt);
        await auditLogin(
          ctx,
          account,
          'success',
          { next: nextStep(stage), session: started.session.id },
          trx,
        );
        return started.token;
      });
      // Thrown outside the transaction so that the audited refusal commits.
      if (token === null)
        throw sessionError('session.limit_reached', 'The maximum number of concurrent sessions is reached');
      // Read back through the users service: the answer carries what GET /me carries (access roles included).
      return { token, user: await deps.users.get(row.username), next: nextStep(stage) };
    },

    /**
     * The second login step: a TOTP code or a recovery code, throttled like the password (a failed code counts
     * against the same budget). The code is consumed and the session advanced in one transaction.
     */
    async completeMfa(
      ctx: OperationContext,
      session: ResolvedSession,
      factor: MfaLoginInput,
    ): Promise<{ user: PublicUser } & LoginProgress> {
      if (session.stage !== 'mfa')
        throw authError('auth.no_login_in_progress', 'No second factor is pending');
      const { username } = session.user;
      const auditMfa = (
        trx: Kysely<Database>,
        outcome: 'success' | 'failure',
        details: Record<string, unknown>,
      ): Promise<void> =>
        audit.record(trx, ctx, {
          action: 'auth.mfa',
          target: userTarget(username),
          outcome,
          details: { ...details, session: session.session.id },
        });

      await reserve(username, ctx.ip, () =>
        db.transaction().execute((trx) => auditMfa(trx, 'failure', { reason: 'throttled' })),
      );
      const result = await db.transaction().execute(async (trx) => {
        const user = (await deps.userReader.findRowById(session.user.id, trx)) ?? session.user;
        const outcome = await deps.mfa.verifyLoginFactor(trx, user.id, factor);
        if (!outcome.ok) {
          // Committed: the failed code is part of the record and counts against the budget.
          await deps.throttle.failed(username, trx);
          await auditMfa(trx, 'failure', { method: outcome.method, reason: outcome.reason });
          return null;
        }
        await deps.throttle.succeeded(username, ctx.ip, { clearAccount: true }, trx);
        const progress = await advance(trx, session.session.id, user, { mfaVerified: true });
        await auditMfa(trx, 'success', {
          method: outcome.method,
          next: progress.next,
          ...(outcome.recoveryCodesLeft === null ? {} : { codesLeft: outcome.recoveryCodesLeft }),
        });
        return progress;
      });
      if (!result) throw authError('auth.invalid_code', 'Invalid code');
      return { user: await deps.users.get(username), ...result };
    },

    /**
     * Self-service password change (the current password is a guessing oracle, so it is throttled like a
     * login), then the next login step when the session was held at `password_change`.
     */
    async changeOwnPassword(
      ctx: SelfContext,
      session: ResolvedSession,
      currentPassword: string,
      password: string,
    ): Promise<LoginProgress | null> {
      const { username } = session.user;
      // Refused before the throttle: no password is checked, so the attempt must neither count nor clear it.
      if (session.user.auth_method === 'sso') {
        throw userError('user.sso_password', 'You sign in with SSO: your provider manages your password');
      }
      await reserve(username, ctx.ip, () =>
        db.transaction().execute((trx) =>
          audit.record(trx, ctx, {
            action: 'user.password_change',
            target: userTarget(username),
            outcome: 'failure',
            details: { reason: 'throttled' },
          }),
        ),
      );
      try {
        await deps.users.changeOwnPassword(ctx, currentPassword, password);
      } catch (error) {
        const code = error instanceof AppError ? error.code : null;
        if (code === 'password.current_mismatch') await deps.throttle.failed(username);
        else if (code === 'server.busy') await deps.throttle.release(username, ctx.ip);
        // Any other refusal (policy, reuse) came after the current password was proven.
        else await deps.throttle.succeeded(username, ctx.ip, { clearAccount: true });
        throw error;
      }
      await deps.throttle.succeeded(username, ctx.ip, { clearAccount: true });
      return continueLogin(session, 'password_change');
    },

    continueLogin,

    async logout(ctx: OperationContext, sessionId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await deps.sessions.end(trx, sessionId);
        await audit.record(trx, ctx, { action: 'auth.logout', details: { session: sessionId } });
      });
      await deps.changes.settled();
    },
  };
}
