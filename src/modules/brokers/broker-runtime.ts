import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import type { SecretBox } from '../../core/crypto/secret-box.js';
import type { DomainEventBus } from '../../core/events.js';
import { fallbackLogger } from '../../core/logging/logger.js';
import type { Leadership } from '../../db/leadership/leadership.js';
import type { Database } from '../../db/schema.js';
import {
  type BrokerChange,
  type BrokerIntegration,
  type BrokerKind,
  isHookKind,
  type LiveStatus,
  type WardenDirectory,
} from '../../integrations/broker-integration.js';
import type { HookIntegration, HookServices } from '../../integrations/hooks/hook-integration.js';
import { buildIntegration, type StoredConfig } from './broker-config.js';
import type { BrokerCredentials } from './broker-credentials.js';
import { findIntegrationById, listIntegrations, recordStatus } from './brokers.repository.js';
import type { BrokerIntegrationRow } from './brokers.table.js';
import { HookGate } from './hook-gate.js';

export interface BrokerRuntimeDeps {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly box: SecretBox;
  readonly events: DomainEventBus;
  readonly directory: WardenDirectory;
  readonly credentials: Pick<BrokerCredentials, 'ledger'>;
  readonly hookServices: HookServices;
  /** Whether this instance runs the duties (syncs, purges, kicks); only its integrations perform them. */
  readonly leadership: Pick<Leadership, 'isLeader' | 'onChange'>;
}

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A just-set password that an integration could not take (never carries the password). */
export interface MissedPasswordPush {
  readonly integration: string;
  readonly username: string;
  readonly error: string;
}

/**
 * The integrations this process runs: built from their stored settings, started with the server, restarted
 * when their settings change (here, by the CLI or on another instance: the change feed says so), fed every
 * committed user and access-role change, and the passwords being set. Hook integrations answer on every
 * instance; their duties (EMQX purges and kicks) and the sync integrations (Mosquitto) run only on the
 * instance that holds the duties, and move with them. The CLI never starts it; it builds one-off adapters
 * through {@link BrokerRuntime.build} instead (syncs, status, {@link BrokerRuntime.pushPassword}).
 */
export class BrokerRuntime {
  readonly gate: HookGate;
  readonly #deps: BrokerRuntimeDeps;
  readonly #running = new Map<string, BrokerIntegration>();
  /** The server's logger once started; before that (CLI, tests) warnings go to stderr. */
  #logger: Logger | null = null;
  #offEvents: Array<() => void> = [];
  #started = false;
  /** Failures (start, sync, push) per integration id since this process started: the metrics' errors counter. */
  readonly #failures = new Map<string, number>();

  constructor(deps: BrokerRuntimeDeps) {
    this.#deps = deps;
    this.gate = new HookGate(deps.clock);
  }

  get logger(): Logger {
    return this.#logger ?? fallbackLogger();
  }

  /**
   * An adapter for `row` (not started). `duties: false` builds one that only answers hooks (a running adapter on
   * an instance that does not hold the duties); one-off adapters (a sync asked for, a status, the CLI) may act.
   * Throws when a stored secret cannot be opened.
   */
  build(row: BrokerIntegrationRow, options: { duties: boolean } = { duties: true }): BrokerIntegration {
    const { db, box, directory, credentials, hookServices } = this.#deps;
    const logger = this.logger.child({ integration: row.name });
    const persist = (status: Parameters<typeof recordStatus>[2]): void => {
      if (status.kind === 'failed' && status.error !== null) this.#countFailure(row.id);
      recordStatus(db, row.id, status).catch((error: unknown) =>
        logger.error({ err: describeError(error) }, 'recording broker status failed'),
      );
    };
    return buildIntegration({
      kind: row.kind as BrokerKind,
      stored: JSON.parse(row.config) as StoredConfig,
      box,
      deps: {
        id: row.id,
        name: row.name,
        duties: options.duties,
        directory,
        ledger: credentials.ledger,
        hookServices,
        context: {
          clock: this.#deps.clock,
          logger,
          status: {
            synced: (at, changes) => persist({ kind: 'synced', at, changes }),
            failed: (error, at) => persist({ kind: 'failed', at, error }),
          },
        },
      },
    });
  }

  #countFailure(id: string): void {
    this.#failures.set(id, (this.#failures.get(id) ?? 0) + 1);
  }

  /** Failures of an integration id seen by this process since it started. */
  failures(id: string): number {
    return this.#failures.get(id) ?? 0;
  }

  /** The running adapter of an integration id, if this process runs it. */
  running(id: string): BrokerIntegration | undefined {
    return this.#running.get(id);
  }

  #publishHooks(): void {
    this.gate.setIntegrations(
      [...this.#running.values()].filter((integration): integration is HookIntegration =>
        isHookKind(integration.kind),
      ),
    );
  }

  async #startRow(row: BrokerIntegrationRow): Promise<void> {
    const duties = this.#deps.leadership.isLeader();
    // A sync integration is nothing but duties: it runs where they are held. Hook integrations answer here.
    if (!duties && !isHookKind(row.kind as BrokerKind)) return;
    try {
      const integration = this.build(row, { duties });
      this.#running.set(row.id, integration);
      await integration.start();
    } catch (error) {
      this.logger.error(
        { integration: row.name, err: describeError(error) },
        'broker integration did not start',
      );
      this.#countFailure(row.id);
      await recordStatus(this.#deps.db, row.id, {
        kind: 'failed',
        at: this.#deps.clock.now(),
        error: describeError(error),
      });
    }
  }

  /** Starts every enabled integration and begins forwarding changes. Idempotent. */
  async start(options: { logger?: Logger } = {}): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (options.logger) this.#logger = options.logger;
    const forward = (change: BrokerChange): void => {
      // Mirroring a change is a duty: the instance that holds the duties does it for everyone.
      if (!this.#deps.leadership.isLeader()) return;
      for (const integration of this.#running.values()) void integration.handleChange(change);
    };
    this.#offEvents = [
      this.#deps.events.on('user.changed', (event) => forward({ subject: 'user', ...event })),
      this.#deps.events.on('access_role.changed', (event) => forward({ subject: 'access_role', ...event })),
      // Settings changed here, by the CLI or on another instance: restart that integration from what is stored.
      this.#deps.events.on('broker.changed', async ({ id }) => {
        await this.replace(id, (await findIntegrationById(this.#deps.db, id)) ?? null);
      }),
      // Changes may have been missed: the duties' holder brings every broker in line again.
      this.#deps.events.on('feed.reset', async () => {
        if (!this.#deps.leadership.isLeader()) return;
        for (const integration of this.#running.values()) {
          await integration
            .reconcile({ dryRun: false })
            .catch((error: unknown) =>
              this.logger.error(
                { integration: integration.name, err: describeError(error) },
                'reconcile failed',
              ),
            );
        }
      }),
      // The duties moved to or away from this instance: every integration is rebuilt to match (a new holder's
      // sync integrations start with a full reconcile).
      this.#deps.leadership.onChange(() => this.#restartAll()),
    ];
    for (const row of await listIntegrations(this.#deps.db)) {
      if (row.enabled === 1) await this.#startRow(row);
    }
    this.#publishHooks();
  }

  async #restartAll(): Promise<void> {
    if (!this.#started) return;
    const previous = [...this.#running.values()];
    this.#running.clear();
    await Promise.all(previous.map((integration) => integration.stop()));
    for (const row of await listIntegrations(this.#deps.db)) {
      if (row.enabled === 1) await this.#startRow(row);
    }
    this.#publishHooks();
  }

  /** Stops every running integration. */
  async stop(): Promise<void> {
    for (const off of this.#offEvents) off();
    this.#offEvents = [];
    const running = [...this.#running.values()];
    this.#running.clear();
    this.#publishHooks();
    this.#started = false;
    await Promise.all(running.map((integration) => integration.stop()));
  }

  /** After a settings change: stops the old adapter and, if enabled, starts the new one (when running). */
  async replace(id: string, row: BrokerIntegrationRow | null): Promise<void> {
    if (!this.#started) return;
    const previous = this.#running.get(id);
    this.#running.delete(id);
    await previous?.stop();
    if (row && row.enabled === 1) await this.#startRow(row);
    this.#publishHooks();
  }

  /**
   * Hands a just-set password to the brokers (the only moment Warden knows it): on the duties' holder to its
   * running integrations (which push it or queue it while their broker is down), elsewhere over one-off sessions
   * like the CLI — the plaintext never travels between instances.
   */
  async passwordSet(username: string, password: string): Promise<void> {
    if (this.#deps.leadership.isLeader()) {
      for (const integration of this.#running.values()) void integration.passwordSet(username, password);
      return;
    }
    for (const missed of await this.pushPassword(username, password)) {
      this.logger.warn(
        { integration: missed.integration, username: missed.username, err: missed.error },
        'password not delivered to the broker; it stays pending',
      );
    }
  }

  /**
   * For a process that runs no integration (the CLI): hands a just-set password to a one-off adapter of every
   * enabled sync integration, which connects, pushes it and disconnects; all at once, so an unreachable broker
   * costs its own timeout only. Resolves with the integrations that could not take it.
   */
  async pushPassword(username: string, password: string): Promise<MissedPasswordPush[]> {
    // Hook brokers ask Warden at every CONNECT: they have no password to receive.
    const rows = (await listIntegrations(this.#deps.db)).filter(
      (row) => row.enabled === 1 && !isHookKind(row.kind as BrokerKind),
    );
    const outcomes = await Promise.all(
      rows.map(async (row): Promise<MissedPasswordPush | null> => {
        try {
          await this.build(row).passwordSet(username, password);
          return null;
        } catch (error) {
          return { integration: row.name, username, error: describeError(error) };
        }
      }),
    );
    return outcomes.filter((missed) => missed !== null);
  }

  /** The adapter's live status, from the running one or a never-started one (CLI, disabled integrations). */
  async liveStatus(
    row: BrokerIntegrationRow,
  ): Promise<{ running: boolean; live: LiveStatus; error: string | null }> {
    const running = this.#running.get(row.id);
    try {
      return {
        running: running !== undefined,
        live: await (running ?? this.build(row)).status(),
        error: null,
      };
    } catch (error) {
      return {
        running: running !== undefined,
        live: { connected: isHookKind(row.kind as BrokerKind) ? null : false },
        error: describeError(error),
      };
    }
  }
}
