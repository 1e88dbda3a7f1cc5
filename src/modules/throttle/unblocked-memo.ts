import type { Clock } from '../../core/clock.js';
import type { ThrottleService } from './throttle.service.js';

/**
 * How long "this account is not throttled" is trusted before the throttle table is read again: a storm of
 * requests with cached credentials then costs one read per account per second, not one per request. Failures
 * verified in this process take effect at once (`forget`); a block caused elsewhere (console logins, another
 * instance) within this time.
 */
export const UNBLOCKED_TRUST_MS = 1_000;

/**
 * "Is this account blocked?" for credentials answered from a cache (MQTT CONNECTs, forward-auth Basic): a cached
 * credential must not bypass the throttle, yet must not read the throttle table on every request either.
 */
export function createUnblockedMemo(deps: {
  throttle: Pick<ThrottleService, 'isBlocked'>;
  clock: Clock;
  /** Most accounts remembered; beyond it the memo starts afresh. */
  maxEntries: number;
}) {
  const unblockedUntil = new Map<string, number>();
  return {
    async isBlocked(username: string): Promise<boolean> {
      const key = username.toLowerCase();
      const now = deps.clock.now();
      if ((unblockedUntil.get(key) ?? 0) > now) return false;
      const blocked = await deps.throttle.isBlocked(username);
      if (blocked) unblockedUntil.delete(key);
      else {
        if (unblockedUntil.size >= deps.maxEntries) unblockedUntil.clear();
        unblockedUntil.set(key, now + UNBLOCKED_TRUST_MS);
      }
      return blocked;
    },

    /** A failure was just counted for the account: the next question reads the throttle table. */
    forget(username: string): void {
      unblockedUntil.delete(username.toLowerCase());
    },
  };
}
