import { toIso } from '../../core/clock.js';
import type { AccessService, SubjectDecision } from '../../modules/access/access.service.js';
import { type AccessRequest, acceptsSubscription, decide } from '../../modules/access-engine/index.js';
import type { MqttAuthService } from '../../modules/mqtt/mqtt-auth.service.js';
import type {
  BrokerIntegration,
  HookKind,
  IntegrationContext,
  LiveStatus,
  SyncReport,
} from '../broker-integration.js';
import { HookAccessCheck, type HookAccessConfig } from './hook-access.js';

/** Who may call an integration's hooks, and how fast. */
export interface HookSettings {
  readonly access: HookAccessConfig;
  /** Sustained hook requests per second per source address. */
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** Warden's answers hooks are built from: the same services the embedded broker uses. */
export interface HookServices {
  readonly access: Pick<AccessService, 'peek' | 'decide' | 'effectiveAccess' | 'onSubjectChange'>;
  readonly mqttAuth: Pick<MqttAuthService, 'authenticate'>;
  /** Whether Warden has a user of this name (active or not); for the "unknown user" policy. */
  userExists(username: string): Promise<boolean>;
}

/** A hook integration: the port plus what the hook routes need. */
export interface HookIntegration extends BrokerIntegration {
  readonly kind: HookKind;
  readonly hook: HookSettings;
  /** The credential/address check built from `hook.access`. */
  readonly check: HookAccessCheck;
  /** Counts one answered hook request (status `hooks`). */
  countRequest(): void;
}

const INACTIVE: SubjectDecision = Object.freeze({ allowed: false, reason: 'user_inactive' });

/**
 * `access.decide`, answered synchronously when the user's compiled rules are loaded (the hot path of every
 * hook: no promise, no I/O), from the access service otherwise. Same answers as `access.decide`.
 */
export function decideNow(
  services: HookServices,
  username: string,
  clientid: string | null,
  request: AccessRequest,
): SubjectDecision | Promise<SubjectDecision> {
  const subject = services.access.peek(username);
  if (subject === undefined) return services.access.decide(username, clientid, request);
  if (subject === null) return INACTIVE;
  return decide(subject.compiled, { username: subject.username, clientid }, request);
}

/**
 * A decision for a request whose QoS and retain flag the broker does not send: accepted only if it is at every
 * one. A partially granted subscription is accepted when the broker checks every delivery too
 * (`checksDeliveries`, see acceptsSubscription).
 */
export async function decideForAnyQos(
  services: HookServices,
  username: string,
  clientid: string | null,
  request: Pick<AccessRequest, 'action' | 'topic'>,
  checksDeliveries: boolean,
): Promise<{ accepted: boolean; reason: string }> {
  const retains = request.action === 'subscribe' ? [false] : [false, true];
  let reason = 'rule';
  for (const qos of [0, 1, 2] as const) {
    for (const retain of retains) {
      const decision = await decideNow(services, username, clientid, { ...request, qos, retain });
      if (!acceptsSubscription(decision, checksDeliveries))
        return { accepted: false, reason: decision.reason };
      if (decision.reason === 'partial') reason = 'partial';
    }
  }
  return { accepted: true, reason };
}

/**
 * The parts every hook integration shares: the credential check, traffic counters and a reconcile that has
 * nothing to diff. Adapters override `reconcile` and `handleChange` where their broker has an API.
 */
export function hookBase(options: {
  name: string;
  kind: HookKind;
  hook: HookSettings;
  context: IntegrationContext;
  /** Why a reconcile has nothing to do (reported as its warning). */
  nothingToSync: string;
}): HookIntegration {
  const { context } = options;
  const check = new HookAccessCheck(options.hook.access);
  let requests = 0;
  let lastRequestAt: number | null = null;
  return {
    name: options.name,
    kind: options.kind,
    hook: options.hook,
    check,
    countRequest() {
      requests += 1;
      lastRequestAt = context.clock.now();
    },
    // Hooks need no connection: the broker calls Warden.
    async start() {},
    async stop() {},
    async reconcile({ dryRun }): Promise<SyncReport> {
      const at = toIso(context.clock.now());
      return {
        integration: options.name,
        kind: options.kind,
        dryRun,
        startedAt: at,
        finishedAt: at,
        changes: [],
        warnings: [options.nothingToSync],
      };
    },
    // Decisions are taken live at every hook call, so a committed change applies at the next call.
    async handleChange() {},
    // The broker sends the password at every CONNECT; nothing to push.
    async passwordSet() {},
    async status(): Promise<LiveStatus> {
      return {
        connected: null,
        hooks: { requests, lastRequestAt: lastRequestAt === null ? null : toIso(lastRequestAt) },
      };
    },
    async idle() {},
  };
}
