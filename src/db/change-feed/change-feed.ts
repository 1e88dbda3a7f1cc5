import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import type { DomainEventBus, DomainEvents, FeedEventName } from '../../core/events.js';
import { fallbackLogger } from '../../core/logging/logger.js';
import type { Engine } from '../database.js';
import type { NotificationSource, Subscription } from '../dialects/postgres.js';
import type { Database } from '../schema.js';
import {
  appendChange,
  changesAfter,
  newestChangeId,
  oldestChangeId,
  pruneChanges,
} from './change-feed.repository.js';

/** SQLite has no notifications: a follower asks for the newest id this often. */
const SQLITE_POLL_MS = 100;
/** With notifications a poll is only the safety net for a lost one. */
const POSTGRES_POLL_MS = 1_000;
/** Changes read per query while catching up. */
const BATCH = 500;
/** Reconnecting after a lost database: from this, doubling, up to the maximum. */
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;
/** Rows older than this are pruned; a process further behind drops every cache (`feed.reset`). */
const RETENTION_MS = 24 * 3_600_000;
const PRUNE_EVERY_MS = 10 * 60_000;

/** What /readyz and fail-closed decisions know of the follower. */
export interface FeedStatus {
  /** Whether this process follows the feed (the server does; the CLI does not). */
  readonly following: boolean;
  /** False while the database cannot be read or the notification connection is down. */
  readonly healthy: boolean;
  /** The last change applied in this process. */
  readonly lastId: number;
  /** Why it is unhealthy (the database's error), or null. */
  readonly error: string | null;
}

export interface ChangeFeed {
  /**
   * Writes `event` to the feed inside the caller's transaction (as the transaction's last statement: on
   * PostgreSQL it holds the feed lock until commit). Never carries a secret: payloads are stored as they are.
   */
  record<E extends FeedEventName>(trx: Kysely<Database>, event: E, payload: DomainEvents[E]): Promise<void>;
  /**
   * Called after a commit: resolves once this process has applied every change committed so far — through the
   * feed, exactly as changes of the CLI or of other instances arrive — so the caller reads its own writes. A
   * no-op in a process that does not follow.
   */
  settled(): Promise<void>;
  /**
   * Starts following: the server's start step. `prunes` says whether this instance runs the pruning (a duty:
   * only its holder does it). Returns the stop function.
   */
  follow(options?: { logger?: Logger; prunes?: () => boolean }): Promise<() => Promise<void>>;
  status(): FeedStatus;
  /**
   * Whether what this process applied can be trusted for a decision: it does not follow (it reads the database
   * for everything), or it follows and is in touch with the database.
   */
  trustworthy(): boolean;
}

/** Set while this process's listeners apply a change from the feed. */
const delivering = new AsyncLocalStorage<boolean>();

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The durable change feed (docs/architecture.md#change-feed): services append in their transaction; every
 * process follows by id and re-emits each change on its own event bus, which the caches and live enforcement
 * listen to. PostgreSQL wakes followers with LISTEN/NOTIFY and they catch up by id (a notification is lost while
 * its connection is down; after reconnecting the follower reads everything it missed); SQLite followers poll.
 * A follower behind the oldest row kept (pruned) emits `feed.reset`: drop every cache, re-check live state.
 */
export function createChangeFeed(deps: {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  events: DomainEventBus;
  notifications?: NotificationSource;
}): ChangeFeed {
  const { db, engine, clock, events } = deps;
  let following = false;
  let healthy = true;
  let error: string | null = null;
  let lastId = 0;
  let logger: Logger = fallbackLogger();
  let inflight: Promise<void> | null = null;
  let again = false;
  /** PostgreSQL: the notification connection is down (its loss alone makes the process fail closed). */
  let subscriptionLost = false;
  let positioned = false;

  /** Hands one change to this process's listeners and waits until they have applied it. */
  async function dispatch(kind: string, payload: string): Promise<void> {
    let data: unknown;
    try {
      data = JSON.parse(payload);
    } catch {
      logger.error({ kind }, 'change feed: unreadable payload skipped');
      return;
    }
    // Kinds come from this code base; an unknown one (a newer release during a rolling upgrade) has no listener.
    await delivering.run(true, () => events.emit(kind as FeedEventName, data as DomainEvents[FeedEventName]));
  }

  function markLost(cause: unknown): void {
    if (healthy) logger.error({ err: describe(cause) }, 'change feed: database unreachable, failing closed');
    healthy = false;
    error = describe(cause);
  }

  function markHealthy(): void {
    if (!healthy) logger.warn({ lastId }, 'change feed: back in touch with the database, caught up');
    healthy = true;
    error = null;
  }

  async function drain(): Promise<void> {
    let first = true;
    for (;;) {
      const rows = await changesAfter(db, lastId, BATCH);
      const next = rows[0];
      // A gap after lastId is a rolled-back append, or rows pruned before this process read them: only then is
      // the oldest id kept worth asking for. Pruning leaves the newest row, so a pruned gap always shows here.
      if (first && next && next.id > lastId + 1 && (await oldestChangeId(db)) > lastId + 1 && lastId > 0) {
        await events.emit('feed.reset', {
          reason: `behind the oldest change kept (at ${lastId}, next ${next.id})`,
        });
      }
      first = false;
      for (const row of rows) {
        lastId = row.id;
        await dispatch(row.kind, row.payload);
      }
      if (rows.length < BATCH) return;
    }
  }

  /** Applies everything committed so far; concurrent callers share one pass (and get one more if needed). */
  function catchUp(): Promise<void> {
    if (inflight) {
      again = true;
      return inflight;
    }
    inflight = (async () => {
      do {
        again = false;
        await drain();
      } while (again);
    })().finally(() => {
      inflight = null;
    });
    return inflight;
  }

  async function poll(): Promise<void> {
    if (inflight) return;
    try {
      if ((await newestChangeId(db)) !== lastId || !healthy) await catchUp();
      if (!subscriptionLost) markHealthy();
    } catch (cause) {
      markLost(cause);
    }
  }

  return {
    async record(trx, event, payload) {
      const key =
        'username' in payload
          ? payload.username.toLowerCase()
          : 'name' in payload
            ? payload.name
            : 'key' in payload
              ? payload.key
              : payload.userId;
      await appendChange(trx, engine, {
        kind: event,
        key,
        payload: JSON.stringify(payload),
        at: clock.now(),
      });
    },

    async settled() {
      // A listener whose work writes (and so settles) would wait for the very delivery it is part of.
      if (!following || delivering.getStore()) return;
      try {
        await catchUp();
      } catch (cause) {
        // The change itself committed; the poll keeps retrying and the process fails closed meanwhile.
        markLost(cause);
      }
    },

    async follow(options = {}) {
      if (options.logger) logger = options.logger;
      // Changes before this process first followed are already in what it reads from the database; following
      // again later continues where it stopped (and catches up below).
      if (!positioned) {
        lastId = await newestChangeId(db);
        positioned = true;
      }
      following = true;
      healthy = true;
      let stopped = false;
      let subscription: Subscription | null = null;
      let retryTimer: NodeJS.Timeout | null = null;
      let retryMs = RETRY_MIN_MS;

      const subscribe = async (): Promise<void> => {
        if (stopped || !deps.notifications) return;
        try {
          subscription = await deps.notifications.subscribe({
            onNotify: () => {
              catchUp().catch(markLost);
            },
            onLost: (cause) => {
              subscription = null;
              subscriptionLost = true;
              markLost(cause);
              scheduleResubscribe();
            },
          });
          subscriptionLost = false;
          retryMs = RETRY_MIN_MS;
          // Whatever was appended while no one listened.
          await catchUp();
          markHealthy();
        } catch (cause) {
          subscriptionLost = true;
          markLost(cause);
          scheduleResubscribe();
        }
      };
      const scheduleResubscribe = (): void => {
        if (stopped || retryTimer) return;
        retryTimer = setTimeout(() => {
          retryTimer = null;
          void subscribe();
        }, retryMs);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      };

      await subscribe();
      if (!deps.notifications) await catchUp();
      const poller = setInterval(
        () => void poll(),
        engine === 'postgres' ? POSTGRES_POLL_MS : SQLITE_POLL_MS,
      );
      const prunes = options.prunes ?? (() => true);
      const pruner = setInterval(() => {
        if (!prunes()) return;
        pruneChanges(db, clock.now() - RETENTION_MS).catch((cause: unknown) =>
          logger.warn({ err: describe(cause) }, 'change feed: pruning failed'),
        );
      }, PRUNE_EVERY_MS);
      poller.unref();
      pruner.unref();

      return async () => {
        stopped = true;
        following = false;
        clearInterval(poller);
        clearInterval(pruner);
        if (retryTimer) clearTimeout(retryTimer);
        await subscription?.close();
        await inflight?.catch(() => {});
      };
    },

    status: () => ({ following, healthy, lastId, error }),

    trustworthy: () => !following || healthy,
  };
}
