import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Engine } from '../../db/database.js';
import { lockFor } from '../../db/dialects/locks.js';
import type { Database } from '../../db/schema.js';
import type { SettingsService } from '../settings/settings.service.js';
import { authError } from './auth.errors.js';

/** Failures before the progressive delay starts, and its ceiling. */
const FREE_ATTEMPTS = 3;
const MAX_DELAY_MS = 30_000;

export function accountKey(username: string): string {
  return `acct:${username.toLowerCase()}`;
}

export function ipKey(ip: string): string {
  return `ip:${ip}`;
}

export type ThrottleService = ReturnType<typeof createThrottleService>;

/**
 * Brute-force protection kept in the database (so several instances share it). An attempt is *reserved* before
 * the password is verified, atomically, so racing requests can never exceed the per-account budget; a success
 * clears the account's counter. Blocks only last until the window ends: the real user is never locked out for
 * good.
 */
export function createThrottleService(deps: {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  settings: SettingsService;
}) {
  async function reserveOne(
    trx: Kysely<Database>,
    key: string,
    max: number,
    windowMs: number,
  ): Promise<void> {
    const now = deps.clock.now();
    const row = await trx.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
    if (row && now < row.blocked_until) {
      throw authError('auth.throttled', 'Too many attempts, try again later', {
        headers: { 'retry-after': String(Math.max(1, Math.ceil((row.blocked_until - now) / 1000))) },
      });
    }
    const fresh = !row || now - row.window_start >= windowMs;
    const attempts = fresh ? 1 : row.attempts + 1;
    const windowStart = fresh ? now : row.window_start;
    let blockedUntil = 0;
    if (attempts >= max) blockedUntil = windowStart + windowMs;
    else if (attempts >= FREE_ATTEMPTS)
      blockedUntil = now + Math.min(1000 * 2 ** (attempts - FREE_ATTEMPTS), MAX_DELAY_MS);
    await trx
      .insertInto('login_throttle')
      .values({ key, window_start: windowStart, attempts, blocked_until: blockedUntil })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({ window_start: windowStart, attempts, blocked_until: blockedUntil }),
      )
      .execute();
  }

  return {
    /** Reserves one verification for the account and the client address, or throws 429 auth.throttled. */
    async reserve(username: string, ip: string): Promise<void> {
      const { throttle } = await deps.settings.getSecurity();
      const windowMs = throttle.windowMinutes * 60_000;
      await deps.db.transaction().execute(async (trx) => {
        await lockFor(trx, deps.engine, 'throttle');
        // Lock order is fixed (account, then address) so concurrent reservations cannot deadlock.
        await reserveOne(trx, accountKey(username), throttle.maxAttemptsPerAccount, windowMs);
        if (ip) await reserveOne(trx, ipKey(ip), throttle.maxAttemptsPerIp, windowMs);
      });
    },

    /** A correct password: the account starts afresh (the address keeps its count). */
    async succeeded(username: string): Promise<void> {
      await deps.db.deleteFrom('login_throttle').where('key', '=', accountKey(username)).execute();
    },

    /** Whether an account is currently blocked (the embedded broker refuses throttled users at CONNECT). */
    async isBlocked(username: string): Promise<boolean> {
      const row = await deps.db
        .selectFrom('login_throttle')
        .select('blocked_until')
        .where('key', '=', accountKey(username))
        .executeTakeFirst();
      return row !== undefined && deps.clock.now() < row.blocked_until;
    },
  };
}
