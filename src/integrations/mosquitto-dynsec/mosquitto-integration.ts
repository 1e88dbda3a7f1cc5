import { toIso } from '../../core/clock.js';
import type { DomainEvents } from '../../core/events.js';
import type {
  BrokerIntegration,
  IntegrationContext,
  LiveStatus,
  SyncChange,
  SyncReport,
  WardenDirectory,
} from '../broker-integration.js';
import { SerialQueue } from '../serial-queue.js';
import { DynsecClient, type DynsecCommand, DynsecError, type DynsecResponse } from './dynsec-client.js';
import {
  type ClientIdBinding,
  type DynsecClientEntry,
  type DynsecRole,
  desiredState,
  desiredUser,
  indexRoles,
  isManagedRole,
  MANAGED_GROUP,
  type MappingOptions,
  rulesHavePlaceholders,
  sharedRole,
  sharedRoleName,
  userRoleName,
} from './dynsec-model.js';
import {
  type BrokerSnapshot,
  parseClient,
  parseDefaultAcl,
  parseRole,
  planClient,
  planFull,
  planRole,
} from './dynsec-plan.js';

/** Settings of one Mosquitto integration (secrets already opened). */
export interface MosquittoConfig {
  /** `mqtt://host:port` or `mqtts://host:port` of a listener the admin can reach. */
  readonly url: string;
  /** The client created with `mosquitto_ctrl dynsec init`. */
  readonly adminUsername: string;
  readonly adminPassword: string;
  readonly clientIdBinding: ClientIdBinding;
  /** How long a command may wait for its reply. */
  readonly timeoutMs: number;
  /** Verify the broker's TLS certificate (mqtts). */
  readonly rejectUnauthorized: boolean;
}

/** Which users' current passwords a broker is known to hold (persisted by the brokers module). */
export interface PasswordLedger {
  /** Active local users whose current password this broker is not known to have: the first `limit` names. */
  unsynced(
    integrationId: string,
    exclude: string,
    limit: number,
  ): Promise<{ count: number; usernames: string[] }>;
  /** The broker acknowledged the user's current password. */
  synced(integrationId: string, username: string): Promise<void>;
  /** The broker no longer holds the user's password (its client was recreated without one). */
  forget(integrationId: string, username: string): Promise<void>;
}

export interface MosquittoIntegrationDeps {
  readonly id: string;
  readonly name: string;
  readonly config: MosquittoConfig;
  readonly directory: WardenDirectory;
  readonly ledger: PasswordLedger;
  readonly context: IntegrationContext;
}

/** Delay between reconnection attempts of the long-lived admin session. */
const RECONNECT_MS = 2_000;
const LIST_PAGE = 1_000;
/** How many pending usernames the status lists (the count is exact). */
const STATUS_NAMES = 100;

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function isNotFound(response: DynsecResponse | undefined): boolean {
  return response?.error !== undefined && /not found/i.test(response.error);
}

/**
 * Mosquitto 2.x through its dynamic-security plugin (docs/broker-protocols.md#mosquitto-dynamic-security):
 * Warden is the dynsec admin, mirrors users as clients and access rules as roles (see dynsec-model.ts),
 * reconciles in full when the session comes up and on demand, applies each committed change incrementally,
 * and pushes passwords when they are set.
 */
export function createMosquittoIntegration(deps: MosquittoIntegrationDeps): BrokerIntegration {
  const { config, directory, ledger, context } = deps;
  const options: MappingOptions = {
    clientIdBinding: config.clientIdBinding,
    adminUsername: config.adminUsername,
  };
  const queue = new SerialQueue();
  /** Passwords set while the broker could not take them; in memory only, by lower-case username. */
  const queuedPasswords = new Map<string, { username: string; password: string }>();
  let session: DynsecClient | null = null;
  let stopped = false;

  const fail = (error: unknown): void => {
    context.status.failed(describeError(error), context.clock.now());
    context.logger.warn({ err: describeError(error) }, 'mosquitto sync failed');
  };

  function openSession(
    reconnectPeriodMs: number,
    onReady: () => void,
    onDown: (error: Error | null) => void,
  ) {
    return DynsecClient.connect({
      url: config.url,
      username: config.adminUsername,
      password: config.adminPassword,
      timeoutMs: config.timeoutMs,
      rejectUnauthorized: config.rejectUnauthorized,
      reconnectPeriodMs,
      onReady,
      onDown,
    });
  }

  /** Runs `work` with the live session, or with a one-off session when the integration is not started. */
  async function withSession<T>(work: (client: DynsecClient) => Promise<T>): Promise<T> {
    if (session) {
      if (!session.ready) throw new Error(`not connected to Mosquitto at ${config.url}`);
      return work(session);
    }
    const transient = await new Promise<DynsecClient>((resolve, reject) => {
      const client: DynsecClient = openSession(
        0,
        () => resolve(client),
        (error) => {
          void client.close();
          reject(
            new Error(
              `cannot connect to Mosquitto at ${config.url}: ${error?.message ?? 'connection closed'}`,
            ),
          );
        },
      );
    });
    try {
      return await work(transient);
    } finally {
      await transient.close();
    }
  }

  /** Sends the changes' commands; a refused command fails the whole apply (the next reconcile heals). */
  async function apply(client: DynsecClient, changes: readonly SyncChange[]): Promise<void> {
    const commands = changes.flatMap((change) => change.requests as DynsecCommand[]);
    if (commands.length === 0) return;
    const responses = await client.execute(commands);
    const refused = responses.filter((response) => response.error !== undefined);
    if (refused.length > 0) {
      const first = refused[0] as DynsecResponse;
      throw new DynsecError(
        first.command,
        `Mosquitto refused ${refused.length} command(s): ${first.command}: ${first.error}`,
      );
    }
  }

  async function list(client: DynsecClient, command: 'listClients' | 'listRoles'): Promise<unknown[]> {
    const key = command === 'listClients' ? 'clients' : 'roles';
    const items: unknown[] = [];
    for (let offset = 0; ; offset += LIST_PAGE) {
      const [response] = await client.execute([{ command, verbose: true, count: LIST_PAGE, offset }]);
      if (response?.error !== undefined) throw new DynsecError(command, `${command}: ${response.error}`);
      const data = (response?.data ?? {}) as { totalCount?: number; [k: string]: unknown };
      const page = Array.isArray(data[key]) ? (data[key] as unknown[]) : [];
      items.push(...page);
      if (page.length < LIST_PAGE || items.length >= (data.totalCount ?? 0)) return items;
    }
  }

  async function snapshot(client: DynsecClient): Promise<BrokerSnapshot> {
    const [defaults, group] = await client.execute([
      { command: 'getDefaultACLAccess' },
      { command: 'getGroup', groupname: MANAGED_GROUP },
    ]);
    if (defaults?.error !== undefined) throw new DynsecError('getDefaultACLAccess', defaults.error);
    const roles = new Map<string, DynsecRole>();
    for (const raw of await list(client, 'listRoles')) {
      const role = parseRole(raw);
      if (isManagedRole(role.rolename)) roles.set(role.rolename, role);
    }
    const clients = new Map<string, DynsecClientEntry>();
    for (const raw of await list(client, 'listClients')) {
      const entry = parseClient(raw);
      if (entry.username !== config.adminUsername) clients.set(entry.username, entry);
    }
    return {
      defaultAcl: parseDefaultAcl(defaults?.data),
      groupExists: group?.error === undefined,
      roles,
      clients,
    };
  }

  async function allUsers() {
    const users = [];
    for await (const user of directory.users()) users.push(user);
    return users;
  }

  /** Pushes queued passwords of users the broker has a client for; keeps the others queued. */
  async function flushPasswords(client: DynsecClient): Promise<void> {
    for (const [key, { username, password }] of [...queuedPasswords]) {
      const [response] = await client.execute([{ command: 'setClientPassword', username, password }]);
      if (response?.error === undefined) {
        queuedPasswords.delete(key);
        await ledger.synced(deps.id, username);
      } else if (isNotFound(response) && !(await directory.user(username))) {
        queuedPasswords.delete(key);
      }
    }
  }

  async function reconcileWith(client: DynsecClient, dryRun: boolean): Promise<SyncReport> {
    const startedAt = context.clock.now();
    const current = await snapshot(client);
    const desired = desiredState(await allUsers(), await directory.roles(), options);
    const changes = planFull(current, desired);
    if (!dryRun) {
      await apply(client, changes);
      // A client created here (missing, e.g. deleted behind Warden's back) has no password until one is set.
      for (const change of changes) {
        if (change.action === 'create' && change.target === 'client')
          await ledger.forget(deps.id, change.name);
      }
      await flushPasswords(client);
      context.status.synced(context.clock.now(), changes.length);
    }
    return {
      integration: deps.name,
      kind: 'mosquitto',
      dryRun,
      startedAt: toIso(startedAt),
      finishedAt: toIso(context.clock.now()),
      changes,
      warnings: desired.warnings,
    };
  }

  /** Brings one user's client (and per-user role) in line; falls back to a full reconcile when needed. */
  async function syncUser(client: DynsecClient, username: string): Promise<void> {
    const user = await directory.user(username);
    const name = user?.username ?? username;
    // Rules that cannot be mirrored exactly are reported by full reconciles; one user's sync stays quiet.
    const quiet = (): void => {};
    const desired = user ? desiredUser(user, indexRoles(await directory.roles()), options, quiet) : null;
    if (user && desired === null) return;
    const [clientReply, roleReply] = await client.execute([
      { command: 'getClient', username: name },
      { command: 'getRole', rolename: userRoleName(name) },
    ]);
    const current = clientReply?.error === undefined ? parseClient(clientReply?.data?.client) : undefined;
    const currentRole = roleReply?.error === undefined ? parseRole(roleReply?.data?.role) : undefined;
    const roleChanges = planRole(currentRole, desired?.userRole ?? undefined);
    const clientChanges = planClient(current, desired?.client);
    // A per-user role must exist before the client references it, and may only go once nobody does.
    const changes = desired?.userRole
      ? [...roleChanges, ...clientChanges]
      : [...clientChanges, ...roleChanges];
    try {
      await apply(client, changes);
    } catch (error) {
      // Typically a shared role the broker lacks (created while it was unreachable): heal everything.
      if (!(error instanceof DynsecError)) throw error;
      await reconcileWith(client, false);
      return;
    }
    const queued = queuedPasswords.get(name.toLowerCase());
    if (queued) await flushPasswords(client);
  }

  /** Brings one shared role in line; a change involving placeholders or deletions reconciles everything. */
  async function syncRole(
    client: DynsecClient,
    name: string,
    change: DomainEvents['access_role.changed']['change'],
  ): Promise<void> {
    const roles = await directory.roles();
    const role = roles.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
    const [reply] = await client.execute([
      { command: 'getRole', rolename: sharedRoleName(role?.name ?? name) },
    ]);
    const current = reply?.error === undefined ? parseRole(reply?.data?.role) : undefined;
    // Only a placeholder-free role whose shared copy is all that changes can be handled alone: deletions shift
    // client role priorities, and placeholders put the rules into every holder's per-user role.
    const alone =
      role !== undefined &&
      change !== 'deleted' &&
      !roles.some((candidate) => rulesHavePlaceholders(candidate.rules)) &&
      (current !== undefined || change === 'created');
    if (!alone) {
      await reconcileWith(client, false);
      return;
    }
    await apply(client, planRole(current, sharedRole(role, () => {}) ?? undefined));
  }

  /**
   * A never-started adapter (the CLI) has no session to queue a password for: it mirrors the user over a
   * one-off session, as a running adapter does after a user change (creating the client if the broker lacks
   * it), which pushes the password. Rejects when the broker did not take it, so the caller can say so.
   */
  async function pushOnce(username: string): Promise<void> {
    const key = username.toLowerCase();
    try {
      await withSession((client) => syncUser(client, username));
      if (queuedPasswords.has(key)) throw new Error(`Mosquitto did not take the password of ${username}`);
    } finally {
      queuedPasswords.delete(key);
    }
  }

  function enqueue(key: string, work: (client: DynsecClient) => Promise<void>): Promise<void> {
    return queue
      .push(key, async () => {
        if (!session?.ready) return;
        await work(session);
      })
      .catch(fail);
  }

  return {
    name: deps.name,
    kind: 'mosquitto',

    async start() {
      if (session || stopped) return;
      session = openSession(
        RECONNECT_MS,
        () => {
          context.status.failed(null, context.clock.now());
          void enqueue('full', (client) => reconcileWith(client, false).then(() => {}));
        },
        (error) => fail(error ?? new Error('connection to Mosquitto lost')),
      );
    },

    async stop() {
      stopped = true;
      queue.close();
      queuedPasswords.clear();
      const closing = session;
      session = null;
      await closing?.close();
    },

    reconcile({ dryRun }) {
      return queue
        .run(() => withSession((client) => reconcileWith(client, dryRun)))
        .catch((error: unknown) => {
          fail(error);
          throw error;
        });
    },

    handleChange(change) {
      if (change.subject === 'user') {
        return enqueue(`user:${change.username.toLowerCase()}`, (client) =>
          syncUser(client, change.username),
        );
      }
      return enqueue(`role:${change.name.toLowerCase()}`, (client) =>
        syncRole(client, change.name, change.change),
      );
    },

    passwordSet(username, password) {
      if (username === config.adminUsername) return Promise.resolve();
      queuedPasswords.set(username.toLowerCase(), { username, password });
      if (session === null && !stopped) return pushOnce(username);
      return enqueue(`password:${username.toLowerCase()}`, flushPasswords);
    },

    async status(): Promise<LiveStatus> {
      const pending = await ledger.unsynced(deps.id, config.adminUsername, STATUS_NAMES);
      return {
        connected: session?.ready ?? false,
        pendingPasswords: { ...pending, queued: queuedPasswords.size },
      };
    },

    idle() {
      return queue.idle();
    },
  };
}
