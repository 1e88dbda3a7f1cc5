import { runAt, toIso } from '../../core/clock.js';
import type { SubjectChange } from '../../modules/access/access.service.js';
import type {
  IntegrationContext,
  LiveStatus,
  SyncChange,
  SyncReport,
  WardenDirectory,
} from '../broker-integration.js';
import {
  type HookIntegration,
  type HookServices,
  type HookSettings,
  hookBase,
} from '../hooks/hook-integration.js';
import { SerialQueue } from '../serial-queue.js';
import {
  type EmqxAuthnRequest,
  type EmqxAuthnResult,
  type EmqxAuthzRequest,
  type EmqxAuthzResult,
  type EmqxHookSettings,
  emqxAuthenticate,
  emqxAuthorize,
} from './emqx-hooks.js';
import { EmqxManagement, type EmqxManagementConfig, type EmqxRequest } from './emqx-management.js';

export interface EmqxSettings extends EmqxHookSettings {
  readonly hook: HookSettings;
  /** EMQX's REST API, or null: then nothing is purged or kicked (decisions stay cached up to EMQX's TTL). */
  readonly management: EmqxManagementConfig | null;
}

export interface EmqxIntegration extends HookIntegration {
  readonly kind: 'emqx';
  authenticate(body: EmqxAuthnRequest): Promise<EmqxAuthnResult>;
  authorize(body: EmqxAuthzRequest): EmqxAuthzResult | Promise<EmqxAuthzResult>;
}

/** Beyond this many users changed at once, one cluster-wide purge is cheaper than per-client purges. */
const PURGE_ALL_ABOVE = 20;

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * EMQX 5 through its HTTP authn/authz hooks (docs/broker-protocols.md#emqx-5). With a management URL and API
 * key, changes reach EMQX's per-client decision cache: after Warden's compiled rules for a user changed (the
 * access service's `onSubjectChange`, so EMQX re-asks only once Warden answers the new way) the user's
 * clients' caches are purged — or they are kicked when the `acl` was handed out at login (it is frozen for
 * the connection) or the user was deactivated, deleted or given a new password.
 */
export function createEmqxIntegration(deps: {
  name: string;
  /** Purging and kicking through the management API are duties: only where they are held. */
  duties: boolean;
  settings: EmqxSettings;
  services: HookServices;
  directory: WardenDirectory;
  context: IntegrationContext;
}): EmqxIntegration {
  const { settings, services, context } = deps;
  const base = hookBase({
    name: deps.name,
    kind: 'emqx',
    hook: settings.hook,
    context,
    nothingToSync:
      'no management URL configured: EMQX keeps cached decisions until its authorization cache TTL',
  });
  const management = settings.management && deps.duties ? new EmqxManagement(settings.management) : null;
  const queue = new SerialQueue();
  const changed = new Map<string, { username: string; revoked: boolean }>();
  let lastCallOk: boolean | null = null;
  let stopListening: (() => void) | null = null;
  /** Kicks waiting for the end of a rotation's grace period. */
  const deferredKicks = new Set<() => void>();

  /** Runs one management call, remembering whether EMQX answered (the status's `connected`). */
  async function tracked<T>(call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      lastCallOk = true;
      return result;
    } catch (error) {
      lastCallOk = false;
      throw error;
    }
  }

  const send = (api: EmqxManagement, request: EmqxRequest): Promise<unknown> =>
    tracked(() => api.send(request));

  const fail = (error: unknown): void => {
    context.status.failed(describeError(error), context.clock.now());
    context.logger.warn({ err: describeError(error) }, 'emqx cache purge failed');
  };

  async function clientsOf(api: EmqxManagement, username: string): Promise<string[]> {
    const clients = await tracked(() => api.clients(username));
    return clients.map((client) => client.clientid);
  }

  async function kickUser(api: EmqxManagement, username: string): Promise<number> {
    const ids = await clientsOf(api, username);
    for (const id of ids) await send(api, { method: 'DELETE', path: EmqxManagement.kickPath(id) });
    return ids.length;
  }

  /** Applies the batch of users whose rules changed since the last flush. */
  async function flushChanged(api: EmqxManagement): Promise<void> {
    const batch = [...changed.values()];
    changed.clear();
    const refresh = batch.filter((entry) => !entry.revoked && !settings.authnAcl);
    let requests = 0;
    for (const entry of batch) {
      if (entry.revoked || settings.authnAcl) requests += await kickUser(api, entry.username);
    }
    if (refresh.length > PURGE_ALL_ABOVE) {
      await send(api, { method: 'DELETE', path: EmqxManagement.purgePath(null) });
      requests += 1;
    } else {
      for (const entry of refresh) {
        for (const id of await clientsOf(api, entry.username)) {
          await send(api, { method: 'DELETE', path: EmqxManagement.purgePath(id) });
          requests += 1;
        }
      }
    }
    context.status.synced(context.clock.now(), requests);
  }

  function onSubjectChange({ username, subject }: SubjectChange): void {
    if (!management) return;
    const key = username.toLowerCase();
    const revoked = subject === null || changed.get(key)?.revoked === true;
    changed.set(key, { username, revoked });
    queue.push('flush', () => flushChanged(management)).catch(fail);
  }

  async function plan(api: EmqxManagement): Promise<SyncChange[]> {
    const active = new Map<string, boolean>();
    for await (const user of deps.directory.users()) active.set(user.username.toLowerCase(), user.active);
    const changes: SyncChange[] = [];
    for (const client of await tracked(() => api.clients())) {
      const state = active.get(client.username.toLowerCase());
      const unwanted = state === false || (state === undefined && settings.unknownUser === 'deny');
      if (!unwanted) continue;
      changes.push({
        action: 'kick',
        target: 'connection',
        name: client.clientid,
        detail:
          state === false
            ? `user ${client.username} is deactivated`
            : `no Warden user ${client.username || '(none)'}`,
        requests: [{ method: 'DELETE', path: `/api/v5${EmqxManagement.kickPath(client.clientid)}` }],
      });
    }
    changes.push({
      action: 'purge',
      target: 'authz_cache',
      name: '*',
      detail: 'every node forgets cached decisions and asks Warden again',
      requests: [{ method: 'DELETE', path: `/api/v5${EmqxManagement.purgePath(null)}` }],
    });
    return changes;
  }

  async function reconcileWith(api: EmqxManagement, dryRun: boolean): Promise<SyncReport> {
    const startedAt = context.clock.now();
    const changes = await plan(api);
    if (!dryRun) {
      for (const change of changes) {
        for (const request of change.requests as EmqxRequest[]) {
          await send(api, { method: request.method, path: request.path.replace(/^\/api\/v5/, '') });
        }
      }
      context.status.synced(context.clock.now(), changes.length);
    }
    return {
      integration: deps.name,
      kind: 'emqx',
      dryRun,
      startedAt: toIso(startedAt),
      finishedAt: toIso(context.clock.now()),
      changes,
      warnings: [],
    };
  }

  return {
    ...base,
    kind: 'emqx',

    authenticate: (body) => emqxAuthenticate(services, settings, body),
    authorize: (body) => emqxAuthorize(services, settings, body),

    async start() {
      if (!management || stopListening) return;
      stopListening = services.access.onSubjectChange(onSubjectChange);
      // Decisions EMQX cached while Warden was down may be stale: start from a clean slate.
      queue.run(() => reconcileWith(management, false)).catch(fail);
    },

    async stop() {
      stopListening?.();
      stopListening = null;
      for (const cancel of deferredKicks) cancel();
      deferredKicks.clear();
      queue.close();
    },

    async reconcile({ dryRun }) {
      if (!management) return base.reconcile({ dryRun });
      return queue
        .run(() => reconcileWith(management, dryRun))
        .catch((error: unknown) => {
          fail(error);
          throw error;
        });
    },

    async handleChange(change) {
      // Rule changes arrive through onSubjectChange; a new password only ends the user's sessions — after a
      // secret rotation with a grace period, when the previous secret stops working (docs/mqtt.md#live-revocation).
      if (!management || change.subject !== 'user' || change.change !== 'password') return;
      const kick = (): Promise<void> =>
        queue
          .push(`kick:${change.username.toLowerCase()}`, async () => {
            await kickUser(management, change.username);
          })
          .catch(fail);
      const { graceUntil } = change;
      if (graceUntil === undefined || graceUntil <= context.clock.now()) {
        await kick();
        return;
      }
      const cancel = runAt(context.clock, graceUntil, () => {
        deferredKicks.delete(cancel);
        void kick();
      });
      deferredKicks.add(cancel);
    },

    async status(): Promise<LiveStatus> {
      const live = await base.status();
      return { ...live, connected: management ? lastCallOk === true : null };
    },

    idle: () => queue.idle(),
  };
}
