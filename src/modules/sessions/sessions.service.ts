import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { toIso } from '../../core/clock.js';
import { constantTimeEqual, randomToken, sha256Hex } from '../../core/crypto/tokens.js';
import type { ChangeFeed } from '../../db/change-feed/change-feed.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OperationContext } from '../permissions/operation-context.js';
import {
  type Actor,
  canActOn,
  parseRole,
  type Scope,
  type SessionStage,
} from '../permissions/permissions.policy.js';
import { enforce } from '../permissions/refusal.js';
import type { SettingsService } from '../settings/settings.service.js';
import { policyTarget, userTarget } from '../users/users.mapper.js';
import type { UserReader } from '../users/users.reader.js';
import type { UserRow } from '../users/users.table.js';
import { sessionError } from './sessions.errors.js';
import {
  countLiveNonAdminSessions,
  countLiveSessions,
  deleteSession,
  deleteSessionsFromProvider,
  deleteSessionsOfUser,
  findSession,
  insertSession,
  type LiveSessionFilter,
  listLiveSessions,
  type SessionWithUser,
  sessionIdsOfUser,
  touchSession,
} from './sessions.repository.js';
import type { PublicSession, SessionList } from './sessions.schemas.js';
import type { SessionRow } from './sessions.table.js';

/** Activity renews the idle timer, but at most this often writes `last_seen_at` (one write per request is waste). */
const TOUCH_INTERVAL_MS = 15_000;

export interface ClientMeta {
  readonly ip: string;
  readonly userAgent: string;
}

/** Where a session's login came from when it was not a password: the SSO provider and its sealed ID token. */
export interface SessionOrigin {
  readonly ssoProvider: string;
  readonly idTokenSealed: string | null;
}

export interface ResolvedSession {
  readonly session: SessionRow;
  readonly user: UserRow;
  readonly stage: SessionStage;
  /** Built from the user row at every request: permissions are never frozen into a session. */
  readonly actor: Extract<Actor, { type: 'user' }>;
}

/** Which sessions a list or a bulk revocation is about: one user's (by id or name) or everyone's. */
export interface SessionOwnerFilter {
  readonly userId?: string;
  readonly username?: string;
}

/** Cookie value `<id>.<secret>`: the id finds the row, only sha256(secret) is stored and compared. */
export function parseToken(token: string): { id: string; secret: string } | null {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot === token.length - 1 || token.length > 200) return null;
  return { id: token.slice(0, dot), secret: token.slice(dot + 1) };
}

export function toPublicSession(row: SessionWithUser, currentId?: string): PublicSession {
  return {
    id: row.id,
    username: row.username,
    createdAt: toIso(row.created_at),
    lastSeenAt: toIso(row.last_seen_at),
    expiresAt: toIso(Math.min(row.idle_expires_at, row.expires_at)),
    idleExpiresAt: toIso(row.idle_expires_at),
    absoluteExpiresAt: toIso(row.expires_at),
    ip: row.ip,
    userAgent: row.user_agent,
    stage: row.stage,
    current: row.id === currentId,
  };
}

export type SessionsService = ReturnType<typeof createSessionsService>;

export function createSessionsService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  settings: SettingsService;
  audit: AuditService;
  users: UserReader;
  changes: Pick<ChangeFeed, 'record' | 'settled'>;
}) {
  const { db, clock, audit } = deps;

  async function liveFilter(trx: Kysely<Database>, owner: SessionOwnerFilter): Promise<LiveSessionFilter> {
    const security = await deps.settings.getSecurity(trx);
    return { ...owner, now: clock.now(), defaultTimeoutMs: security.defaultSessionTimeoutMinutes * 60_000 };
  }

  async function auditRevoke(
    trx: Kysely<Database>,
    ctx: OperationContext,
    username: string,
    sessionIds: readonly string[],
  ): Promise<void> {
    await audit.record(trx, ctx, {
      action: 'session.revoke',
      target: userTarget(username),
      details: { sessions: sessionIds, ended: sessionIds.length },
    });
  }

  /** One page of live sessions (newest first); `currentId` marks the caller's own. */
  async function list(
    owner: SessionOwnerFilter,
    page: { page: number; pageSize: number },
    currentId?: string,
  ): Promise<SessionList> {
    const { rows, total } = await listLiveSessions(db, await liveFilter(db, owner), {
      limit: page.pageSize,
      offset: (page.page - 1) * page.pageSize,
    });
    return {
      items: rows.map((row) => toPublicSession(row, currentId)),
      total,
      page: page.page,
      pageSize: page.pageSize,
    };
  }

  /**
   * Records ended sessions in the change feed, which carries them to forward-auth's session cache on every
   * instance (src/modules/forward-auth/session-cache.ts); after the commit, `settled()` makes this process's
   * cache current before the answer.
   */
  function recordEnded(trx: Kysely<Database>, userId: string, sessionIds: string[]): Promise<void> {
    return deps.changes.record(trx, 'session.ended', { userId, sessionIds });
  }

  async function insertWithNewToken(
    trx: Kysely<Database>,
    fields: Omit<SessionRow, 'id' | 'token_hash'>,
  ): Promise<{ token: string; session: SessionRow }> {
    const id = randomToken(16);
    const secret = randomToken(32);
    const session: SessionRow = { ...fields, id, token_hash: sha256Hex(secret) };
    await insertSession(trx, session);
    return { token: `${id}.${secret}`, session };
  }

  async function idleTimeoutMs(user: UserRow): Promise<number> {
    const minutes =
      user.session_timeout_minutes || (await deps.settings.getSecurity()).defaultSessionTimeoutMinutes;
    return minutes * 60_000;
  }

  return {
    list,

    /**
     * Creates a session with a fresh random token (never reuses one: fixation-proof); `origin` marks one that a
     * single sign-on started.
     */
    async start(
      trx: Kysely<Database>,
      user: UserRow,
      stage: SessionStage,
      meta: ClientMeta,
      origin: SessionOrigin | null = null,
    ): Promise<{ token: string; session: SessionRow }> {
      const security = await deps.settings.getSecurity(trx);
      const now = clock.now();
      return insertWithNewToken(trx, {
        user_id: user.id,
        stage,
        created_at: now,
        last_seen_at: now,
        expires_at: now + security.absoluteSessionHours * 3_600_000,
        ip: meta.ip.slice(0, 64),
        user_agent: meta.userAgent.slice(0, 300),
        sso_provider: origin?.ssoProvider ?? null,
        sso_id_token_sealed: origin?.idTokenSealed ?? null,
      });
    },

    /**
     * A login step completed: the session moves to `stage` under a new id and token, and the old token stops
     * working in the same transaction. Its login time and absolute expiry stay.
     */
    async rotate(
      trx: Kysely<Database>,
      id: string,
      stage: SessionStage,
    ): Promise<{ token: string; session: SessionRow }> {
      const current = await findSession(trx, id);
      if (!current) throw sessionError('session.not_found', 'The session ended meanwhile');
      await deleteSession(trx, id);
      const { id: _id, token_hash: _hash, ...kept } = current;
      return insertWithNewToken(trx, { ...kept, stage, last_seen_at: clock.now() });
    },

    /** The session behind a cookie, or null when missing, tampered, expired, idle too long or its user inactive. */
    async resolve(token: string): Promise<ResolvedSession | null> {
      const parsed = parseToken(token);
      if (!parsed) return null;
      const session = await findSession(db, parsed.id);
      if (!session || !constantTimeEqual(session.token_hash, sha256Hex(parsed.secret))) return null;
      const user = await deps.users.findRowById(session.user_id);
      const now = clock.now();
      const live =
        user !== undefined &&
        user.active === 1 &&
        now < session.expires_at &&
        now - session.last_seen_at < (await idleTimeoutMs(user));
      if (!live) {
        await deleteSession(db, session.id);
        return null;
      }
      if (now - session.last_seen_at >= TOUCH_INTERVAL_MS) await touchSession(db, session.id, now);
      const role = parseRole(user.role) ?? 'viewer';
      return {
        session,
        user,
        stage: session.stage as SessionStage,
        actor: {
          type: 'user',
          userId: user.id,
          username: user.username,
          role,
          scopes: JSON.parse(user.scopes) as Scope[],
          sessionId: session.id,
        },
      };
    },

    /** Ends one session (logout) in the caller's transaction. */
    async end(trx: Kysely<Database>, id: string): Promise<number> {
      const session = await findSession(trx, id);
      const ended = await deleteSession(trx, id);
      if (session && ended > 0) await recordEnded(trx, session.user_id, [id]);
      return ended;
    },

    endAllForUser(trx: Kysely<Database>, userId: string, exceptId?: string): Promise<number> {
      return deleteSessionsOfUser(trx, userId, exceptId);
    },

    find(id: string): Promise<SessionRow | undefined> {
      return findSession(db, id);
    },

    /** The sessions of the named user; 404 user.not_found when there is no such user. */
    async listOfUser(
      username: string,
      page: { page: number; pageSize: number },
      currentId?: string,
    ): Promise<SessionList> {
      const user = await deps.users.mustFindRow(username);
      return list({ userId: user.id }, page, currentId);
    },

    /**
     * Ends one session, audited as `session.revoke`. With `ownerId` only a session of that user qualifies (self
     * service): another user's session id answers 404 exactly like an unknown one.
     */
    async revoke(
      ctx: OperationContext,
      id: string,
      options: { ownerId?: string } = {},
    ): Promise<{ userId: string }> {
      const session = await findSession(db, id);
      if (!session || (options.ownerId !== undefined && session.user_id !== options.ownerId)) {
        throw sessionError('session.not_found', 'No session has this id');
      }
      const owner = await deps.users.findRowById(session.user_id);
      const target = userTarget(owner?.username ?? session.user_id);
      const revoked = await audit.refusable(ctx, { action: 'session.revoke', target }, () =>
        db.transaction().execute(async (trx) => {
          if (owner) enforce(canActOn(ctx.actor, policyTarget(owner)));
          if ((await deleteSession(trx, id)) === 0)
            throw sessionError('session.not_found', 'No session has this id');
          await auditRevoke(trx, ctx, owner?.username ?? session.user_id, [id]);
          await recordEnded(trx, session.user_id, [id]);
          return { userId: session.user_id };
        }),
      );
      await deps.changes.settled();
      return revoked;
    },

    /**
     * Ends every session of the named user (sparing `exceptId`, the caller's own, when given), audited as one
     * `session.revoke`. Returns how many ended; 404 user.not_found for an unknown user.
     */
    async revokeAllOfUser(
      ctx: OperationContext,
      username: string,
      options: { exceptId?: string } = {},
    ): Promise<number> {
      const ended = await audit.refusable(
        ctx,
        { action: 'session.revoke', target: userTarget(username) },
        () =>
          db.transaction().execute(async (trx) => {
            const user = await deps.users.mustFindRow(username, trx);
            enforce(canActOn(ctx.actor, policyTarget(user)));
            const ids = await sessionIdsOfUser(trx, user.id, options.exceptId);
            if (ids.length === 0) return 0;
            await deleteSessionsOfUser(trx, user.id, options.exceptId);
            await auditRevoke(trx, ctx, user.username, ids);
            await recordEnded(trx, user.id, ids);
            return ids.length;
          }),
      );
      await deps.changes.settled();
      return ended;
    },

    /**
     * Ends, inside the caller's transaction, every session that signing in with the SSO provider `provider`
     * started (the provider is being disabled or deleted: what it vouched for no longer counts), audited as one
     * `session.revoke` per user. Returns how many ended.
     */
    async endSessionsFromProvider(
      trx: Kysely<Database>,
      ctx: OperationContext,
      provider: string,
    ): Promise<number> {
      const ended = await deleteSessionsFromProvider(trx, provider);
      const byUser = new Map<string, string[]>();
      for (const session of ended)
        byUser.set(session.user_id, [...(byUser.get(session.user_id) ?? []), session.id]);
      for (const [userId, ids] of byUser) {
        const owner = await deps.users.findRowById(userId, trx);
        await auditRevoke(trx, ctx, owner?.username ?? userId, ids);
        await recordEnded(trx, userId, ids);
      }
      return ended.length;
    },

    /**
     * Live complete sessions of non-admin users, for the concurrent-session cap: not past their absolute
     * lifetime and seen within their user's idle timeout.
     */
    async countLiveNonAdmin(trx: Kysely<Database>): Promise<number> {
      return countLiveNonAdminSessions(trx, await liveFilter(trx, {}));
    },

    /** Live complete sessions of all users (not past their lifetime, seen within their idle timeout). */
    async countLive(): Promise<number> {
      return countLiveSessions(db, await liveFilter(db, {}));
    },
  };
}
