import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { type Clock, toIso } from '../../core/clock.js';
import type { SecretBox } from '../../core/crypto/secret-box.js';
import { AppError } from '../../core/errors/app-error.js';
import type { DomainEventBus } from '../../core/events.js';
import type { ChangeFeed } from '../../db/change-feed/change-feed.js';
import { isUniqueViolation } from '../../db/dialects/unique-violation.js';
import type { Leadership } from '../../db/leadership/leadership.js';
import type { Database } from '../../db/schema.js';
import {
  type BrokerKind,
  type BrokerStatus,
  isHookKind,
  type SyncReport,
  type WardenDirectory,
} from '../../integrations/broker-integration.js';
import type { HookServices } from '../../integrations/hooks/hook-integration.js';
import { type DynsecExport, exportDynsec } from '../../integrations/mosquitto-dynsec/dynsec-export.js';
import type { MosquittoConfig } from '../../integrations/mosquitto-dynsec/mosquitto-integration.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OperationContext } from '../permissions/operation-context.js';
import { openConfig, prepareConfig, publicConfig, type StoredConfig } from './broker-config.js';
import type { BrokerCredentials } from './broker-credentials.js';
import { BrokerRuntime, type MissedPasswordPush } from './broker-runtime.js';
import { brokerError } from './brokers.errors.js';
import {
  deleteIntegration,
  findIntegrationByName,
  insertIntegration,
  listIntegrations,
  updateIntegration,
} from './brokers.repository.js';
import type { BrokerList, CreateBrokerInput, PublicBroker, UpdateBrokerInput } from './brokers.schemas.js';
import type { BrokerIntegrationRow } from './brokers.table.js';

export type BrokersService = ReturnType<typeof createBrokersService>;

function target(name: string): string {
  return `broker:${name}`;
}

function toPublic(row: BrokerIntegrationRow): PublicBroker {
  const { config, secrets } = publicConfig(row.kind as BrokerKind, JSON.parse(row.config) as StoredConfig);
  return {
    name: row.name,
    kind: row.kind as BrokerKind,
    enabled: row.enabled === 1,
    config,
    secrets,
    version: row.version,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

/** One integration's health as the metrics report it. */
export interface IntegrationHealth {
  readonly name: string;
  readonly kind: BrokerKind;
  readonly up: boolean;
  /** Epoch ms of the last successful full reconcile or purge; null = never. */
  readonly lastSyncAt: number | null;
  readonly failures: number;
}

/** What an audit entry keeps of an integration: its public settings (never secrets, only which are set). */
function snapshot(broker: PublicBroker): Record<string, unknown> {
  return { kind: broker.kind, enabled: broker.enabled, config: broker.config, secretsSet: broker.secrets };
}

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * External broker integrations (docs/brokers.md): their settings (validated per kind, secrets sealed, never returned),
 * their runtime (started with the server, fed every change) and on-demand syncs. Every settings change and
 * every manual sync is audited in the transaction that records it.
 */
export function createBrokersService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  box: SecretBox;
  events: DomainEventBus;
  /** Settings changes are recorded in their transaction; every process's runtime follows them. */
  changes: Pick<ChangeFeed, 'record' | 'settled'>;
  /** Which instance runs the duties (syncs, purges): named in the status, and where the sync adapters run. */
  leadership: Leadership;
  directory: WardenDirectory;
  credentials: BrokerCredentials;
  hookServices: HookServices;
}) {
  const { db, clock, audit, box } = deps;
  const runtime = new BrokerRuntime(deps);
  /** Stops delivering just-set passwords to this process's integrations (running ones or one-off pushes). */
  let stopDelivery: (() => void) | null = null;

  async function mustFind(trx: Kysely<Database>, name: string): Promise<BrokerIntegrationRow> {
    const row = await findIntegrationByName(trx, name);
    if (!row) throw brokerError('broker.not_found', `No broker integration named "${name}"`);
    return row;
  }

  /** The only Mosquitto integration, or the named one. */
  async function mosquittoRow(name: string | undefined): Promise<BrokerIntegrationRow | null> {
    if (name !== undefined) {
      const row = await mustFind(db, name);
      if (row.kind !== 'mosquitto')
        throw brokerError('broker.wrong_kind', `${row.name} is a ${row.kind} integration`);
      return row;
    }
    const rows = (await listIntegrations(db)).filter((row) => row.kind === 'mosquitto');
    if (rows.length > 1)
      throw brokerError('broker.ambiguous', `Choose one of ${rows.map((row) => row.name).join(', ')}`);
    return rows[0] ?? null;
  }

  return {
    /** The hook admission the access guard runs for `{ kind: 'hook' }` routes. */
    hooks: runtime.gate,

    async list(): Promise<BrokerList> {
      const items = (await listIntegrations(db)).map(toPublic);
      return { items, total: items.length };
    },

    async get(name: string): Promise<PublicBroker> {
      return toPublic(await mustFind(db, name));
    },

    async create(ctx: OperationContext, input: CreateBrokerInput): Promise<PublicBroker> {
      const id = randomUUID();
      const config = prepareConfig({ kind: input.kind, id, input: input.config, previous: null, box });
      const now = clock.now();
      const row = await db
        .transaction()
        .execute(async (trx) => {
          if (await findIntegrationByName(trx, input.name)) {
            throw brokerError('broker.exists', `A broker integration named "${input.name}" already exists`);
          }
          await insertIntegration(trx, {
            id,
            name: input.name,
            name_lower: input.name.toLowerCase(),
            kind: input.kind,
            enabled: input.enabled === false ? 0 : 1,
            config: JSON.stringify(config),
            last_sync_at: null,
            last_sync_changes: null,
            last_error: null,
            last_error_at: null,
            created_at: now,
            updated_at: now,
          });
          const created = await mustFind(trx, input.name);
          await audit.record(trx, ctx, {
            action: 'broker.update',
            target: target(created.name),
            details: { change: 'create', after: snapshot(toPublic(created)) },
          });
          await deps.changes.record(trx, 'broker.changed', { id, name: created.name, change: 'created' });
          return created;
        })
        .catch((error: unknown) => {
          if (isUniqueViolation(error)) {
            throw brokerError('broker.exists', `A broker integration named "${input.name}" already exists`);
          }
          throw error;
        });
      await deps.changes.settled();
      return toPublic(row);
    },

    async update(ctx: OperationContext, name: string, input: UpdateBrokerInput): Promise<PublicBroker> {
      const row = await db.transaction().execute(async (trx) => {
        const current = await mustFind(trx, name);
        if (
          (input.name !== undefined && input.name !== current.name) ||
          (input.kind !== undefined && input.kind !== current.kind)
        ) {
          throw brokerError('broker.immutable', 'The name and kind of an integration cannot change');
        }
        const config = prepareConfig({
          kind: current.kind as BrokerKind,
          id: current.id,
          input: input.config,
          previous: JSON.parse(current.config) as StoredConfig,
          box,
        });
        const enabled = input.enabled === undefined ? current.enabled : input.enabled ? 1 : 0;
        const applied = await updateIntegration(
          trx,
          current.id,
          { enabled, config: JSON.stringify(config), updated_at: clock.now() },
          input.version ?? null,
        );
        if (!applied)
          throw brokerError('broker.version_conflict', `${current.name} changed meanwhile; reload it`);
        const updated = await mustFind(trx, name);
        await audit.record(trx, ctx, {
          action: 'broker.update',
          target: target(updated.name),
          details: {
            change: 'update',
            before: snapshot(toPublic(current)),
            after: snapshot(toPublic(updated)),
          },
        });
        await deps.changes.record(trx, 'broker.changed', {
          id: updated.id,
          name: updated.name,
          change: 'updated',
        });
        return updated;
      });
      await deps.changes.settled();
      return toPublic(row);
    },

    async remove(ctx: OperationContext, name: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const current = await mustFind(trx, name);
        await deleteIntegration(trx, current.id);
        await audit.record(trx, ctx, {
          action: 'broker.update',
          target: target(current.name),
          details: { change: 'delete', before: snapshot(toPublic(current)) },
        });
        await deps.changes.record(trx, 'broker.changed', {
          id: current.id,
          name: current.name,
          change: 'deleted',
        });
      });
      await deps.changes.settled();
    },

    /**
     * What the metrics report per integration, without building adapters or asking other instances: whether
     * this process runs it and it works (no last error, its link — if it has one — connected), the last sync and
     * the failures this process saw (docs/metrics.md).
     */
    async metricsSnapshot(): Promise<IntegrationHealth[]> {
      const rows = await listIntegrations(db);
      return Promise.all(
        rows.map(async (row) => {
          const running = runtime.running(row.id);
          const connected = running ? (await running.status()).connected : null;
          return {
            name: row.name,
            kind: row.kind as BrokerKind,
            up: running !== undefined && connected !== false && row.last_error === null,
            lastSyncAt: row.last_sync_at,
            failures: runtime.failures(row.id),
          };
        }),
      );
    },

    async status(name: string): Promise<BrokerStatus> {
      const row = await mustFind(db, name);
      const { running, live, error } = await runtime.liveStatus(row);
      const holder = await deps.leadership.holder();
      const here = deps.leadership.isLeader();
      // A sync integration's link lives on the instance holding the duties; elsewhere it is not known.
      const knownHere = running || here || isHookKind(row.kind as BrokerKind);
      return {
        name: row.name,
        kind: row.kind as BrokerKind,
        enabled: row.enabled === 1,
        running,
        connected: knownHere ? live.connected : null,
        duty: holder ? { ...holder, here } : null,
        lastSyncAt: row.last_sync_at === null ? null : toIso(row.last_sync_at),
        lastSyncChanges: row.last_sync_changes,
        lastError: error ?? row.last_error,
        lastErrorAt: error
          ? toIso(clock.now())
          : row.last_error_at === null
            ? null
            : toIso(row.last_error_at),
        ...(live.pendingPasswords ? { pendingPasswords: live.pendingPasswords } : {}),
        ...(live.hooks ? { hooks: live.hooks } : {}),
      };
    },

    /**
     * A full reconcile, through the running adapter or a one-off one (disabled integrations, the CLI). Audited
     * with the number of changes; a broker that cannot be reached or refuses answers `broker.unreachable`.
     */
    async sync(ctx: OperationContext, name: string, options: { dryRun: boolean }): Promise<SyncReport> {
      const row = await mustFind(db, name);
      let report: SyncReport;
      try {
        // The running adapter where it performs the duties; elsewhere (a standby instance, the CLI) a one-off one.
        const running = deps.leadership.isLeader() ? runtime.running(row.id) : undefined;
        const adapter = running ?? runtime.build(row);
        report = await adapter.reconcile({ dryRun: options.dryRun });
      } catch (error) {
        if (error instanceof AppError) throw error;
        await db.transaction().execute((trx) =>
          audit.record(trx, ctx, {
            action: 'broker.sync',
            target: target(row.name),
            outcome: 'failure',
            details: { dryRun: options.dryRun, error: describeError(error) },
          }),
        );
        throw brokerError('broker.unreachable', `${row.name}: ${describeError(error)}`);
      }
      await db.transaction().execute((trx) =>
        audit.record(trx, ctx, {
          action: 'broker.sync',
          target: target(row.name),
          details: {
            dryRun: options.dryRun,
            changes: report.changes.length,
            warnings: report.warnings.length,
          },
        }),
      );
      return report;
    },

    /**
     * `warden mosquitto export-dynsec`: a dynamic-security.json with everything a full reconcile would create,
     * using the named (or only) Mosquitto integration's admin and client-id binding; without one, no admin client
     * and no binding.
     */
    async exportDynsec(name?: string): Promise<DynsecExport> {
      const row = await mosquittoRow(name);
      const config = row
        ? openConfig<MosquittoConfig>({
            kind: 'mosquitto',
            id: row.id,
            stored: JSON.parse(row.config) as StoredConfig,
            box,
          })
        : null;
      const users = [];
      for await (const user of deps.directory.users()) users.push(user);
      const records = await deps.credentials.mosquittoRecords();
      return exportDynsec({
        users,
        roles: await deps.directory.roles(),
        options: {
          clientIdBinding: config?.clientIdBinding ?? 'none',
          adminUsername: config?.adminUsername ?? '',
        },
        passwordOf: (username) => records.get(username) ?? null,
        adminPassword: config?.adminPassword ?? null,
      });
    },

    /** The name of the only Mosquitto integration, or the given one checked (for `warden mosquitto sync`). */
    async mosquittoName(name?: string): Promise<string> {
      const row = await mosquittoRow(name);
      if (!row) throw brokerError('broker.not_found', 'No Mosquitto integration is configured');
      return row.name;
    },

    /**
     * Starts the enabled integrations and delivers just-set passwords to them (the server does; the CLI does
     * not). Returns once they run; `stop` undoes it.
     */
    async start(options: { logger?: Logger } = {}): Promise<void> {
      await runtime.start(options);
      stopDelivery?.();
      stopDelivery = deps.credentials.deliverTo({
        deliver: async (username, password) => runtime.passwordSet(username, password),
        logger: runtime.logger,
      });
    },
    async stop(): Promise<void> {
      stopDelivery?.();
      stopDelivery = null;
      await runtime.stop();
    },
    /** For tests and benchmarks: resolves once every running adapter's queued work is done. */
    async idle(): Promise<void> {
      for (const row of await listIntegrations(db)) await runtime.running(row.id)?.idle();
    },
    /**
     * For a process that runs no integration (the CLI), which would otherwise leave every password it sets
     * pending: from now on passwords set here are pushed to the enabled Mosquitto integrations over one-off
     * sessions before the operation returns. `onMissed` hears of each integration that could not take one (its
     * user stays in `pendingPasswords`).
     */
    enableOneOffPasswordPushes(onMissed: (missed: MissedPasswordPush) => void): void {
      stopDelivery?.();
      stopDelivery = deps.credentials.deliverTo({
        deliver: async (username, password) => {
          for (const missed of await runtime.pushPassword(username, password)) onMissed(missed);
        },
        logger: runtime.logger,
      });
    },
  };
}
