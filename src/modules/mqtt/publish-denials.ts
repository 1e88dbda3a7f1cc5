import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/schema.js';
import type { QoS } from '../access-engine/index.js';
import type { AuditService } from '../audit/audit.service.js';
import type { MqttDenyAction } from '../settings/settings.schemas.js';
import { userTarget } from '../users/users.mapper.js';

/** A PUBLISH the access rules refused on the embedded broker (never its payload). */
export interface PublishDenial {
  readonly username: string;
  readonly clientId: string;
  readonly ip: string;
  readonly topic: string;
  readonly qos: QoS;
  readonly retain: boolean;
  /** What the broker did: acknowledged and dropped it, or closed the connection. */
  readonly action: MqttDenyAction;
}

/** How long one client's denied publishes to one topic are written to the audit log only once. */
export const DENIAL_AUDIT_WINDOW_MS = 60_000;
/** Distinct topics audited per client and window; further topics are counted only. */
export const DENIAL_AUDIT_TOPICS_PER_CLIENT = 10;
/** Clients remembered at once (memory bound); the one audited longest ago is forgotten first. */
const MAX_CLIENTS = 10_000;
/** Topics longer than this are cut in the audit log (MQTT allows 65,535 bytes). */
const MAX_AUDITED_TOPIC = 1_024;

/**
 * Decides which denied publishes are written to the audit log, so that a device publishing where it may not,
 * many times a second, cannot flood it: the first denial per client (username and client id) and topic in a
 * minute, at most {@link DENIAL_AUDIT_TOPICS_PER_CLIENT} topics per client in that minute. Pure, clock given.
 */
export class DenialAuditLimiter {
  /** Client key → (topic → when audited), both ordered oldest first (an entry is moved to the end when set). */
  readonly #clients = new Map<string, Map<string, number>>();

  constructor(
    private readonly windowMs = DENIAL_AUDIT_WINDOW_MS,
    private readonly topicsPerClient = DENIAL_AUDIT_TOPICS_PER_CLIENT,
    private readonly maxClients = MAX_CLIENTS,
  ) {}

  /** Whether this denial is to be audited (and, if so, remembers it as audited at `now`). */
  admit(username: string, clientId: string, topic: string, now: number): boolean {
    const key = `${username}\u0000${clientId}`;
    const topics = this.#clients.get(key) ?? new Map<string, number>();
    for (const [seen, at] of topics) {
      if (now - at < this.windowMs) break;
      topics.delete(seen);
    }
    if (topics.has(topic) || topics.size >= this.topicsPerClient) return false;
    topics.set(topic, now);
    this.#clients.delete(key);
    this.#clients.set(key, topics);
    if (this.#clients.size > this.maxClients) {
      const oldest = this.#clients.keys().next().value as string;
      this.#clients.delete(oldest);
    }
    return true;
  }
}

export type PublishDenialsService = ReturnType<typeof createPublishDenialsService>;

/** Audits the embedded broker's denied publishes, bounded (`mqtt.publish_denied`, docs/audit.md). */
export function createPublishDenialsService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
}) {
  const limiter = new DenialAuditLimiter();

  return {
    /**
     * Writes a denial to the audit log unless its client had that topic audited within the last minute (or
     * already has ten topics audited in it). Resolves with whether it was written.
     */
    async record(denial: PublishDenial): Promise<boolean> {
      if (!limiter.admit(denial.username, denial.clientId, denial.topic, deps.clock.now())) return false;
      const topic =
        denial.topic.length > MAX_AUDITED_TOPIC
          ? `${denial.topic.slice(0, MAX_AUDITED_TOPIC)}…`
          : denial.topic;
      await deps.db.transaction().execute((trx) =>
        deps.audit.record(
          trx,
          { actor: { type: 'system' }, ip: denial.ip, requestId: '' },
          {
            action: 'mqtt.publish_denied',
            actor: { type: 'user', name: `user:${denial.username}` },
            target: userTarget(denial.username),
            outcome: 'failure',
            details: {
              clientId: denial.clientId,
              topic,
              qos: denial.qos,
              retain: denial.retain,
              action: denial.action,
            },
          },
        ),
      );
      return true;
    },
  };
}
