import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { AppError } from '../../core/errors/app-error.js';
import type { Engine } from '../../db/database.js';
import { lockFor } from '../../db/dialects/locks.js';
import type { Database } from '../../db/schema.js';
import { authError } from '../auth/auth.errors.js';
import type { SecuritySettings } from '../settings/settings.schemas.js';
import type { SettingsService } from '../settings/settings.service.js';
import type { LoginThrottleTable } from './throttle.table.js';

/** The budgets and window of the throttle (`throttle.*` of the security settings). */
export type ThrottlePolicy = SecuritySettings['throttle'];
type LoginThrottleRow = Selectable<LoginThrottleTable>;

/** Failures of one account before the progressive delay starts, and its ceiling. */
export const FREE_ATTEMPTS = 3;
export const MAX_DELAY_MS = 30_000;
/** Finished windows are swept at most this often (rows for made-up usernames would otherwise pile up). */
const PURGE_INTERVAL_MS = 60_000;

export function accountKey(username: string): string {
  return `acct:${username.toLowerCase()}`;
}

export function ipKey(ip: string): string {
  return `ip:${ip}`;
}

/** The delay after the n-th failure of an account: none for the first few, then 1 s, 2 s, 4 s … 30 s. */
export function progressiveDelayMs(failures: number): number {
  if (failures < FREE_ATTEMPTS) return 0;
  return Math.min(1000 * 2 ** (failures - FREE_ATTEMPTS), MAX_DELAY_MS);
}

function throttled(retryAfterMs: number): Error {
  return authError('auth.throttled', 'Too many attempts, try again later', {
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
}

/** Whether an error is the throttle's 429 (callers audit the refused attempt before passing it on). */
export function isThrottled(error: unknown): boolean {
  return error instanceof AppError && error.code === 'auth.throttled';
}

/**
 * A refusal that is not a problem answer (forward-auth answers a throttled identity with its own 401): the
 * throttle's 429 as an outcome carrying its Retry-After, or null for any other error.
 */
export function throttledOutcome(
  error: unknown,
): { readonly ok: false; readonly reason: 'throttled'; readonly retryAfter: string } | null {
  if (!isThrottled(error)) return null;
  return { ok: false, reason: 'throttled', retryAfter: (error as AppError).headers['retry-after'] ?? '1' };
}

export type ThrottleService = ReturnType<typeof createThrottleService>;

/**
 * Brute-force protection kept in the database (so several instances share it).
 *
 * Every password or second-factor verification is *reserved* first, atomically for the account and the client
 * address, so racing requests can never exceed the per-account budget (`maxAttemptsPerAccount` per window).
 * A failure then adds the account's progressive delay; a completed login clears the account and gives the
 * address its reservation back, so the address budget counts failures (a hard cap, no delay, so colleagues
 * behind one NAT do not slow each other down). Blocks end with the window: the real user is never locked out
 * for good.
 */
export function createThrottleService(deps: {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  settings: SettingsService;
}) {
  let lastPurge = 0;

  function readRow(trx: Kysely<Database>, key: string): Promise<LoginThrottleRow | undefined> {
    return trx.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
  }

  /** The counter after one more reservation, or 429 auth.throttled when the key is blocked or its budget spent. */
  function admit(
    row: LoginThrottleRow | undefined,
    max: number,
    windowMs: number,
    now: number,
  ): Omit<LoginThrottleRow, 'key'> {
    if (row && now < row.blocked_until) throw throttled(row.blocked_until - now);
    const fresh = !row || now - row.window_start >= windowMs;
    const attempts = fresh ? 0 : row.attempts;
    const windowStart = fresh ? now : row.window_start;
    if (attempts >= max) throw throttled(windowStart + windowMs - now);
    return {
      window_start: windowStart,
      attempts: attempts + 1,
      blocked_until: fresh ? 0 : row.blocked_until,
    };
  }

  async function store(
    trx: Kysely<Database>,
    key: string,
    values: Omit<LoginThrottleRow, 'key'>,
  ): Promise<void> {
    await trx
      .insertInto('login_throttle')
      .values({ key, ...values })
      .onConflict((oc) => oc.column('key').doUpdateSet(values))
      .execute();
  }

  async function reserveOne(
    trx: Kysely<Database>,
    key: string,
    max: number,
    windowMs: number,
    now: number,
  ): Promise<void> {
    await store(trx, key, admit(await readRow(trx, key), max, windowMs, now));
  }

  /** Gives one reservation back (the attempt was not a failure), never below zero. */
  async function refund(db: Kysely<Database>, key: string): Promise<void> {
    await db
      .updateTable('login_throttle')
      .set((eb) => ({ attempts: eb('attempts', '-', 1) }))
      .where('key', '=', key)
      .where('attempts', '>', 0)
      .execute();
  }

  async function purgeFinishedWindows(trx: Kysely<Database>, now: number, windowMs: number): Promise<void> {
    if (now - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = now;
    await trx
      .deleteFrom('login_throttle')
      .where('window_start', '<=', now - windowMs)
      .where('blocked_until', '<=', now)
      .execute();
  }

  /**
   * Reserves one verification for the account and the client address, or throws 429 auth.throttled with
   * Retry-After. Both counters move together or not at all.
   */
  async function reserve(username: string, ip: string): Promise<void> {
    const { throttle } = await deps.settings.getSecurity();
    const windowMs = throttle.windowMinutes * 60_000;
    await deps.db.transaction().execute(async (trx) => {
      await lockFor(trx, deps.engine, 'throttle');
      const now = deps.clock.now();
      await purgeFinishedWindows(trx, now, windowMs);
      // Lock order is fixed (account, then address) so concurrent reservations cannot deadlock.
      await reserveOne(trx, accountKey(username), throttle.maxAttemptsPerAccount, windowMs, now);
      if (ip) await reserveOne(trx, ipKey(ip), throttle.maxAttemptsPerIp, windowMs, now);
    });
  }

  /**
   * Runs `work` under the throttle lock: inside the caller's transaction when given (so a settlement commits
   * with the login's own writes, one commit instead of two), else in its own.
   */
  async function locked(
    trx: Transaction<Database> | undefined,
    work: (trx: Transaction<Database>) => Promise<void>,
  ) {
    const run = async (inner: Transaction<Database>): Promise<void> => {
      await lockFor(inner, deps.engine, 'throttle');
      await work(inner);
    };
    if (trx) await run(trx);
    else await deps.db.transaction().execute(run);
  }

  /** The account's progressive delay after a failure, in `trx`, which holds the throttle lock. */
  async function failedIn(trx: Kysely<Database>, throttle: ThrottlePolicy, username: string): Promise<void> {
    const windowMs = throttle.windowMinutes * 60_000;
    const key = accountKey(username);
    const row = await trx.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
    if (!row) return;
    const now = deps.clock.now();
    const until =
      row.attempts >= throttle.maxAttemptsPerAccount
        ? row.window_start + windowMs
        : now + progressiveDelayMs(row.attempts);
    if (until > row.blocked_until) {
      await trx.updateTable('login_throttle').set({ blocked_until: until }).where('key', '=', key).execute();
    }
  }

  /** A verification failed: the reservation stays counted and the account waits its progressive delay. */
  async function failed(username: string, trx?: Transaction<Database>): Promise<void> {
    const { throttle } = await deps.settings.getSecurity(trx);
    await locked(trx, (inner) => failedIn(inner, throttle, username));
  }

  /**
   * A verification succeeded. The address gets its reservation back; the account starts afresh only when the
   * login is complete (`clearAccount`): after a correct password with the second factor still pending it keeps
   * counting, so knowing the password never buys unlimited guesses at the TOTP code.
   */
  async function succeeded(
    username: string,
    ip: string,
    options: { clearAccount: boolean },
    trx?: Transaction<Database>,
  ): Promise<void> {
    await locked(trx, async (inner) => {
      if (options.clearAccount) {
        await inner.deleteFrom('login_throttle').where('key', '=', accountKey(username)).execute();
      }
      if (ip) await refund(inner, ipKey(ip));
    });
  }

  /** The reserved verification never ran (the hasher was saturated): both reservations are given back. */
  async function release(username: string, ip: string): Promise<void> {
    await deps.db.transaction().execute(async (trx) => {
      await lockFor(trx, deps.engine, 'throttle');
      await refund(trx, accountKey(username));
      if (ip) await refund(trx, ipKey(ip));
    });
  }

  return {
    reserve,
    failed,
    succeeded,
    release,

    /**
     * One throttled verification: reserves (429 when over budget), runs `check`, then records a failure or a
     * success (`clearAccountOnSuccess` as for `succeeded`). A check that throws (503 server.busy) never
     * verified anything, so its reservation is given back.
     */
    async guard(
      username: string,
      ip: string,
      options: { clearAccountOnSuccess: boolean },
      check: () => Promise<boolean>,
    ): Promise<boolean> {
      await reserve(username, ip);
      let ok: boolean;
      try {
        ok = await check();
      } catch (error) {
        await release(username, ip);
        throw error;
      }
      if (ok) await succeeded(username, ip, { clearAccount: options.clearAccountOnSuccess });
      else await failed(username);
      return ok;
    },

    /** The current budgets, read once for several `guardIn` calls in one transaction. */
    async policy(trx: Kysely<Database>): Promise<ThrottlePolicy> {
      return (await deps.settings.getSecurity(trx)).throttle;
    },

    /**
     * One complete login whose check does no slow work (the keyed hash of generated secrets,
     * docs/authentication.md#generated-secrets), decided in the caller's transaction under the throttle lock:
     * refused with 429 auth.throttled exactly when `reserve` would refuse it; a failure is counted as after
     * `reserve` + `failed`; a success clears the account as `succeeded` does. With the check inside the lock no
     * reservation has to outlive it, so a success writes nothing but the clearing of an account that had
     * failures — and the caller's audit event commits with it. `throttle` is {@link policy} of the same
     * transaction.
     */
    async guardIn<R extends { readonly ok: boolean }>(
      trx: Transaction<Database>,
      throttle: ThrottlePolicy,
      username: string,
      ip: string,
      check: () => Promise<R>,
    ): Promise<R> {
      const windowMs = throttle.windowMinutes * 60_000;
      await lockFor(trx, deps.engine, 'throttle');
      const now = deps.clock.now();
      await purgeFinishedWindows(trx, now, windowMs);
      const account = await readRow(trx, accountKey(username));
      const address = ip ? await readRow(trx, ipKey(ip)) : undefined;
      const accountNext = admit(account, throttle.maxAttemptsPerAccount, windowMs, now);
      const addressNext = ip ? admit(address, throttle.maxAttemptsPerIp, windowMs, now) : null;
      const result = await check();
      if (result.ok) {
        // The reservation and its settlement cancel out, except that a completed login clears the account.
        if (account) await trx.deleteFrom('login_throttle').where('key', '=', accountKey(username)).execute();
        return result;
      }
      await store(trx, accountKey(username), accountNext);
      if (addressNext) await store(trx, ipKey(ip), addressNext);
      await failedIn(trx, throttle, username);
      return result;
    },

    /**
     * One failed attempt from `ip` at a credential that names no account to charge (an API key,
     * docs/api-keys.md; a token presented to MQTT, docs/mqtt-tokens.md), counted against the address's own budget for `purpose`: `throttle.maxAttemptsPerIp`
     * failures per window, apart from the login budget, so a script with a stale key never locks the people
     * behind the same address out of the console. 429 auth.throttled when the budget was spent already;
     * otherwise when the address's budget ends if this attempt spent it (epoch ms), else 0.
     */
    async addressFailed(purpose: 'api_key' | 'mqtt_token', ip: string): Promise<number> {
      const { throttle } = await deps.settings.getSecurity();
      const windowMs = throttle.windowMinutes * 60_000;
      const key = `${purpose}:${ipKey(ip)}`;
      return deps.db.transaction().execute(async (trx) => {
        await lockFor(trx, deps.engine, 'throttle');
        const now = deps.clock.now();
        await purgeFinishedWindows(trx, now, windowMs);
        const next = admit(await readRow(trx, key), throttle.maxAttemptsPerIp, windowMs, now);
        await store(trx, key, next);
        return next.attempts >= throttle.maxAttemptsPerIp ? next.window_start + windowMs : 0;
      });
    },

    /** The 429 auth.throttled answer for a budget that ends at `until` (epoch ms). */
    throttledUntil(until: number): Error {
      return throttled(until - deps.clock.now());
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
