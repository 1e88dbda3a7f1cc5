import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { type Clock, toIso } from '../../core/clock.js';
import { fallbackLogger } from '../../core/logging/logger.js';
import type { HeldLock, LockSource } from '../dialects/postgres.js';
import type { Database } from '../schema.js';
import { findHolder, heartbeat, recordHolder } from './leadership.repository.js';

/** The advisory lock key of the duties election (apart from the transaction locks of src/db/dialects/locks.ts). */
const DUTIES_LOCK_KEY = 7_401_100;
const DUTIES = 'duties';
/** How often a standby instance tries to take over, and the holder refreshes its heartbeat. */
const ELECTION_MS = 1_000;
const HEARTBEAT_MS = 2_000;

/** Who runs the duties, as recorded by the holder. */
export interface DutyHolder {
  readonly instance: string;
  readonly since: string;
  readonly heartbeatAt: string;
}

export interface Leadership {
  /** This process's name in `duty_holders` and in the broker status (WARDEN_INSTANCE_ID). */
  readonly instance: string;
  /** Whether this instance runs the duties now. */
  isLeader(): boolean;
  /** The recorded holder (any instance may answer who it is). */
  holder(): Promise<DutyHolder | null>;
  /** Calls `listener` with true when this instance takes the duties over and false when it loses them. */
  onChange(listener: (leader: boolean) => Promise<void>): () => void;
  /** Joins the election (the server's start step); returns the function that leaves it. */
  start(options?: { logger?: Logger }): Promise<() => Promise<void>>;
}

/**
 * The election of the one instance that runs the duties that must run once (syncing Mosquitto, purging and
 * kicking in EMQX, scheduled jobs), docs/deployment.md#duties. PostgreSQL: a session-level advisory lock on a
 * dedicated connection — released by PostgreSQL the moment the holder's connection ends, a killed process
 * included — tried by every standby each second, so a new holder takes over within about a second of the old
 * one's death. SQLite serves one Warden server, which always holds the duties. The holder records itself in
 * `duty_holders` with a heartbeat so that every instance can name it.
 */
export function createLeadership(deps: {
  db: Kysely<Database>;
  clock: Clock;
  instance: string;
  /** PostgreSQL only; without it this instance always leads. */
  locks?: LockSource;
}): Leadership {
  const listeners = new Set<(leader: boolean) => Promise<void>>();
  let leader = false;
  let logger: Logger = fallbackLogger();

  async function become(next: boolean): Promise<void> {
    if (leader === next) return;
    leader = next;
    if (next) {
      const now = deps.clock.now();
      await recordHolder(deps.db, { duty: DUTIES, instance: deps.instance, since: now, heartbeat_at: now });
      logger.info({ instance: deps.instance }, 'this instance now runs the duties (broker syncs, purges)');
    } else {
      logger.warn({ instance: deps.instance }, 'this instance no longer runs the duties');
    }
    for (const listener of listeners) await listener(next);
  }

  return {
    instance: deps.instance,
    isLeader: () => leader,

    async holder() {
      const row = await findHolder(deps.db, DUTIES);
      return row
        ? {
            instance: row.instance,
            since: toIso(row.since) as string,
            heartbeatAt: toIso(row.heartbeat_at) as string,
          }
        : null;
    },

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async start(options = {}) {
      if (options.logger) logger = options.logger;
      let stopped = false;
      let held: HeldLock | null = null;
      let electing: Promise<void> | null = null;
      const locks = deps.locks;

      const elect = async (): Promise<void> => {
        if (stopped || held || !locks) return;
        try {
          held = await locks.tryHold(DUTIES_LOCK_KEY, (cause) => {
            held = null;
            logger.error({ err: String(cause) }, 'lost the duties lock');
            void become(false);
          });
          if (held) await become(true);
        } catch (cause) {
          logger.warn(
            { err: cause instanceof Error ? cause.message : String(cause) },
            'duties election failed',
          );
        }
      };
      const tick = (): void => {
        if (electing) return;
        electing = (leader ? heartbeat(deps.db, DUTIES, deps.instance, deps.clock.now()) : elect())
          .catch((cause: unknown) => logger.warn({ err: String(cause) }, 'duties heartbeat failed'))
          .finally(() => {
            electing = null;
          });
      };

      if (locks) await elect();
      else await become(true);
      const electionTimer = setInterval(tick, locks ? ELECTION_MS : HEARTBEAT_MS);
      electionTimer.unref();
      return async () => {
        stopped = true;
        clearInterval(electionTimer);
        await electing;
        const releasing = held;
        held = null;
        await become(false);
        await releasing?.release();
      };
    },
  };
}
