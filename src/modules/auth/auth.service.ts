import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { PasswordHasher } from '../../core/crypto/password-hasher.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OperationContext } from '../roles/operation-context.js';
import type { SessionStage } from '../roles/roles.policy.js';
import type { ClientMeta, SessionsService } from '../sessions/sessions.service.js';
import type { SettingsService } from '../settings/settings.service.js';
import { toPublicUser, userTarget } from '../users/users.mapper.js';
import type { PublicUser } from '../users/users.schemas.js';
import type { UsersService } from '../users/users.service.js';
import type { UserRow } from '../users/users.table.js';
import { authError } from './auth.errors.js';
import { nextLoginStage, nextStep } from './login-stage.js';
import type { ThrottleService } from './throttle.service.js';

export interface LoginResult {
  token: string;
  user: PublicUser;
  next: Exclude<SessionStage, 'active'> | null;
}

/** Why a login failed: written to the audit log only; the client always sees auth.invalid_credentials. */
type FailureReason = 'unknown_user' | 'wrong_password' | 'inactive' | 'no_console_login' | 'no_password';

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  hasher: PasswordHasher;
  audit: AuditService;
  settings: SettingsService;
  sessions: SessionsService;
  users: UsersService;
  throttle: ThrottleService;
}) {
  const { db, clock, audit } = deps;

  function anonymousContext(meta: ClientMeta, requestId: string): OperationContext {
    return { actor: { type: 'system' }, ip: meta.ip, requestId };
  }

  async function auditLogin(
    ctx: OperationContext,
    username: string,
    outcome: 'success' | 'failure',
    details: Record<string, unknown>,
    trx: Kysely<Database> = db,
  ): Promise<void> {
    // A failed login is not performed by anyone we know: the actor names the claimed user so the log can be
    // searched by it, the reason says what really happened.
    const actorCtx: OperationContext = { ...ctx, actor: { type: 'system' } };
    await audit.record(trx, actorCtx, {
      action: 'auth.login',
      target: userTarget(username),
      outcome,
      details,
    });
  }

  /** Marks a completed login on the user (last login time). */
  async function completeLogin(trx: Kysely<Database>, user: UserRow): Promise<void> {
    await trx.updateTable('users').set({ last_login_at: clock.now() }).where('id', '=', user.id).execute();
  }

  return {
    /**
     * Verifies username and password (argon2id through the bounded pool; unknown and inactive users against a
     * dummy hash so every failure costs the same), then starts a session at the right login stage.
     */
    async login(
      meta: ClientMeta,
      requestId: string,
      username: string,
      password: string,
    ): Promise<LoginResult> {
      const ctx = anonymousContext(meta, requestId);
      await deps.throttle.reserve(username, meta.ip);
      const row = await deps.users.findRow(username);
      let failure: FailureReason | null = null;
      if (!row) failure = 'unknown_user';
      else if (row.active !== 1) failure = 'inactive';
      else if (row.kind !== 'person') failure = 'no_console_login';
      else if (!row.password_hash) failure = 'no_password';

      const verified =
        failure === null && row?.password_hash
          ? await deps.hasher.verify(row.password_hash, password)
          : await deps.hasher.verifyDummy(password);
      if (failure === null && !verified) failure = 'wrong_password';
      if (failure !== null || !row) {
        await auditLogin(ctx, row?.username ?? username, 'failure', { reason: failure });
        throw authError('auth.invalid_credentials', 'Invalid username or password');
      }
      await deps.throttle.succeeded(username);

      const security = await deps.settings.getSecurity();
      const stage = nextLoginStage(row, security, clock.now(), { mfaVerified: false });
      const token = await db.transaction().execute(async (trx) => {
        if (row.role !== 'admin' && security.maxConcurrentSessions > 0) {
          const live = await deps.sessions.countLiveNonAdmin(trx);
          if (live >= security.maxConcurrentSessions) {
            await auditLogin(ctx, row.username, 'failure', { reason: 'session_limit', live }, trx);
            return null;
          }
        }
        const started = await deps.sessions.start(trx, row, stage, meta);
        if (stage === 'active') await completeLogin(trx, row);
        await auditLogin(
          ctx,
          row.username,
          'success',
          { next: nextStep(stage), session: started.session.id },
          trx,
        );
        return started.token;
      });
      // Thrown outside the transaction so that the audited refusal commits.
      if (token === null)
        throw authError('session.limit_reached', 'The maximum number of concurrent sessions is reached');
      const fresh = (await deps.users.findRow(row.username)) ?? row;
      return { token, user: toPublicUser(fresh), next: nextStep(stage) };
    },

    async logout(ctx: OperationContext, sessionId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await deps.sessions.end(trx, sessionId);
        await audit.record(trx, ctx, { action: 'auth.logout', details: { session: sessionId } });
      });
    },

    /**
     * Moves a pending session on after one login step (MFA verified, password replaced, MFA enrolled) and
     * returns the next step; completes the login when none is left.
     */
    async advance(
      trx: Kysely<Database>,
      sessionId: string,
      user: UserRow,
      progress: { mfaVerified: boolean },
    ): Promise<Exclude<SessionStage, 'active'> | null> {
      const security = await deps.settings.getSecurity(trx);
      const fresh =
        (await trx.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirst()) ?? user;
      const stage = nextLoginStage(fresh, security, clock.now(), progress);
      await deps.sessions.setStage(trx, sessionId, stage);
      if (stage === 'active') await completeLogin(trx, fresh);
      return nextStep(stage);
    },
  };
}
