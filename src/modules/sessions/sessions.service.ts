import { type Kysely, sql } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { toIso } from '../../core/clock.js';
import { constantTimeEqual, randomToken, sha256Hex } from '../../core/crypto/tokens.js';
import type { Database } from '../../db/schema.js';
import { type Actor, parseRole, type Scope, type SessionStage } from '../roles/roles.policy.js';
import type { SettingsService } from '../settings/settings.service.js';
import { findUserById } from '../users/users.repository.js';
import type { UserRow } from '../users/users.table.js';
import {
  deleteSession,
  deleteSessionsOfUser,
  findSession,
  insertSession,
  listSessions,
  type SessionWithUser,
  setSessionStage,
  touchSession,
} from './sessions.repository.js';
import type { SessionRow } from './sessions.table.js';

/** Activity renews the idle timer, but at most this often writes `last_seen_at` (one write per request is waste). */
const TOUCH_INTERVAL_MS = 15_000;

export interface ClientMeta {
  readonly ip: string;
  readonly userAgent: string;
}

export interface ResolvedSession {
  readonly session: SessionRow;
  readonly user: UserRow;
  readonly stage: SessionStage;
  /** Built from the user row at every request: permissions are never frozen into a session. */
  readonly actor: Extract<Actor, { type: 'user' }>;
}

export interface PublicSession {
  id: string;
  username: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string;
  userAgent: string;
  stage: string;
  current: boolean;
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
    expiresAt: toIso(row.expires_at),
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
}) {
  const { db, clock } = deps;

  async function idleTimeoutMs(user: UserRow): Promise<number> {
    const minutes =
      user.session_timeout_minutes || (await deps.settings.getSecurity()).defaultSessionTimeoutMinutes;
    return minutes * 60_000;
  }

  return {
    /** Creates a session with a fresh random token (never reuses one: fixation-proof). */
    async start(
      trx: Kysely<Database>,
      user: UserRow,
      stage: SessionStage,
      meta: ClientMeta,
    ): Promise<{ token: string; session: SessionRow }> {
      const security = await deps.settings.getSecurity(trx);
      const id = randomToken(16);
      const secret = randomToken(32);
      const now = clock.now();
      const session: SessionRow = {
        id,
        token_hash: sha256Hex(secret),
        user_id: user.id,
        stage,
        created_at: now,
        last_seen_at: now,
        expires_at: now + security.absoluteSessionHours * 3_600_000,
        ip: meta.ip.slice(0, 64),
        user_agent: meta.userAgent.slice(0, 300),
      };
      await insertSession(trx, session);
      return { token: `${id}.${secret}`, session };
    },

    /** The session behind a cookie, or null when missing, tampered, expired, idle too long or its user inactive. */
    async resolve(token: string): Promise<ResolvedSession | null> {
      const parsed = parseToken(token);
      if (!parsed) return null;
      const session = await findSession(db, parsed.id);
      if (!session || !constantTimeEqual(session.token_hash, sha256Hex(parsed.secret))) return null;
      const user = await findUserById(db, session.user_id);
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

    setStage(trx: Kysely<Database>, id: string, stage: SessionStage): Promise<void> {
      return setSessionStage(trx, id, stage);
    },

    end(trx: Kysely<Database>, id: string): Promise<number> {
      return deleteSession(trx, id);
    },

    endAllForUser(trx: Kysely<Database>, userId: string, exceptId?: string): Promise<number> {
      return deleteSessionsOfUser(trx, userId, exceptId);
    },

    find(id: string): Promise<SessionRow | undefined> {
      return findSession(db, id);
    },

    async list(filter: { userId?: string; username?: string }, currentId?: string): Promise<PublicSession[]> {
      const rows = await listSessions(db, filter);
      const now = clock.now();
      return rows.filter((row) => row.expires_at > now).map((row) => toPublicSession(row, currentId));
    },

    /**
     * Live complete sessions of non-admin users, for the concurrent-session cap: not past their absolute
     * lifetime and seen within their user's idle timeout.
     */
    async countLiveNonAdmin(trx: Kysely<Database>): Promise<number> {
      const security = await deps.settings.getSecurity(trx);
      const now = clock.now();
      const defaultMs = security.defaultSessionTimeoutMinutes * 60_000;
      const { n } = await trx
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('sessions.stage', '=', 'active')
        .where('users.role', '!=', 'admin')
        .where('sessions.expires_at', '>', now)
        .where(
          sql<number>`sessions.last_seen_at + case when users.session_timeout_minutes > 0 then users.session_timeout_minutes * 60000 else ${defaultMs} end`,
          '>',
          now,
        )
        .executeTakeFirstOrThrow();
      return Number(n);
    },
  };
}
