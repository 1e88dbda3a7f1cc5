import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../../core/clock.js';
import type { CredentialHasher } from '../../core/crypto/credential-hasher.js';
import type { HookKind } from '../../integrations/broker-integration.js';
import type { IntegrationHealth } from '../brokers/brokers.service.js';
import type { DecisionCounts } from '../mqtt/decision-counts.js';
import type { AuditOutcomes, Tally } from './audit-outcomes.js';

/** How long numbers read from the database (users, sessions, integrations) serve scrapes before a new read. */
export const DB_GAUGE_TTL_MS = 5_000;

/** Hook latency buckets (seconds): a decision from memory answers in well under a millisecond. */
const HOOK_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What the metrics read; each is a service built before this one (src/services.ts). */
export interface MetricsSources {
  readonly clock: Clock;
  readonly credentials: Pick<CredentialHasher, 'stats'>;
  readonly outcomes: AuditOutcomes;
  readonly mqttDecisions: DecisionCounts;
  readonly mqttConnections: { readonly size: number };
  readonly countSessions: () => Promise<number>;
  readonly countUsers: () => Promise<Array<{ role: string; active: boolean; n: number }>>;
  readonly integrations: () => Promise<IntegrationHealth[]>;
}

/** `load`, read at most once per {@link DB_GAUGE_TTL_MS}; concurrent scrapes share one read. */
function cached<T>(clock: Clock, load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | null = null;
  let readAt = 0;
  return () => {
    const now = clock.now();
    if (value === null || now - readAt >= DB_GAUGE_TTL_MS) {
      readAt = now;
      value = load();
      // A failed read is not kept: the next scrape tries again.
      value.catch(() => {
        value = null;
      });
    }
    return value;
  };
}

/** Sets a counter to the totals of a tally whose keys are `a/b` label pairs. */
function fromTally<L extends string>(counter: Counter<L>, tally: Tally, labels: readonly [L, L]): void {
  counter.reset();
  for (const [key, n] of tally) {
    const [first = '', second = ''] = key.split('/');
    counter.inc({ [labels[0]]: first, [labels[1]]: second } as Record<L, string>, n);
  }
}

export type MetricsService = ReturnType<typeof createMetricsService>;

/**
 * The Prometheus registry of this process (docs/metrics.md). Hot paths only bump plain integers elsewhere (the
 * broker's decision counts, the audit outcomes, the argon2 pool); the families here read them in `collect`, at
 * scrape time. Database gauges are cached a few seconds. Every number is this instance's own.
 */
export function createMetricsService(sources: MetricsSources) {
  const registry = new Registry();
  const registers = [registry];
  let started = false;
  const { outcomes } = sources;

  new Counter({
    name: 'warden_logins_total',
    help: 'Console/API login attempts by outcome and, for failures, reason',
    labelNames: ['outcome', 'reason'] as const,
    registers,
    collect() {
      fromTally(this, outcomes.logins, ['outcome', 'reason']);
    },
  });
  new Counter({
    name: 'warden_throttled_attempts_total',
    help: 'Password or code verifications refused by the brute-force throttle, by audit action',
    labelNames: ['action'] as const,
    registers,
    collect() {
      this.reset();
      for (const [action, n] of outcomes.throttled) this.inc({ action }, n);
    },
  });
  new Counter({
    name: 'warden_mfa_verifications_total',
    help: 'Second-factor checks at login by outcome and method',
    labelNames: ['outcome', 'method'] as const,
    registers,
    collect() {
      fromTally(this, outcomes.mfa, ['outcome', 'method']);
    },
  });

  new Gauge({
    name: 'warden_password_hash_in_flight',
    help: 'argon2id hashes and verifications running now',
    registers,
    collect() {
      this.set(sources.credentials.stats.inFlight);
    },
  });
  new Gauge({
    name: 'warden_password_hash_queued',
    help: 'argon2id verifications waiting for a slot',
    registers,
    collect() {
      this.set(sources.credentials.stats.queued);
    },
  });
  new Counter({
    name: 'warden_password_hash_refused_total',
    help: 'argon2id verifications refused with 503 server.busy (pool and queue full)',
    registers,
    collect() {
      this.reset();
      this.inc(sources.credentials.stats.refused);
    },
  });

  const sessions = cached(sources.clock, sources.countSessions);
  new Gauge({
    name: 'warden_sessions_active',
    help: 'Live complete console sessions (all instances: read from the database)',
    registers,
    async collect() {
      this.set(await sessions());
    },
  });
  const users = cached(sources.clock, sources.countUsers);
  new Gauge({
    name: 'warden_users',
    help: 'Users by role and status (all instances: read from the database)',
    labelNames: ['role', 'status'] as const,
    registers,
    async collect() {
      this.reset();
      for (const { role, active, n } of await users())
        this.set({ role, status: active ? 'active' : 'inactive' }, n);
    },
  });

  new Gauge({
    name: 'warden_mqtt_connections',
    help: "MQTT connections of this instance's embedded broker",
    registers,
    collect() {
      this.set(sources.mqttConnections.size);
    },
  });
  new Counter({
    name: 'warden_mqtt_decisions_total',
    help: 'MQTT access decisions by enforcement point (embedded broker or hook kind), action and result',
    labelNames: ['point', 'action', 'result'] as const,
    registers,
    collect() {
      this.reset();
      sources.mqttDecisions.forEach((point, action, result, n) => {
        this.inc({ point, action, result }, n);
      });
    },
  });

  const hookRequests = new Counter({
    name: 'warden_hook_requests_total',
    help: 'Broker hook requests answered, by broker kind and HTTP status',
    labelNames: ['kind', 'status'] as const,
    registers,
  });
  const hookLatency = new Histogram({
    name: 'warden_hook_request_duration_seconds',
    help: 'Time to answer a broker hook request, by broker kind',
    labelNames: ['kind'] as const,
    buckets: HOOK_BUCKETS,
    registers,
  });

  const integrations = cached(sources.clock, sources.integrations);
  const integrationGauges = {
    up: new Gauge({
      name: 'warden_integration_up',
      help: 'A broker integration runs on this instance and its last operation succeeded (1) or not (0)',
      labelNames: ['name', 'kind'] as const,
      registers,
    }),
    lastSync: new Gauge({
      name: 'warden_integration_last_sync_timestamp_seconds',
      help: 'End of the last successful full reconcile or cache purge (Unix time; absent = never)',
      labelNames: ['name', 'kind'] as const,
      registers,
    }),
    errors: new Counter({
      name: 'warden_integration_errors_total',
      help: 'Failures of a broker integration (start, sync, push) seen by this instance',
      labelNames: ['name', 'kind'] as const,
      registers,
    }),
  };

  /** The integration families are filled together from one read. */
  async function collectIntegrations(): Promise<void> {
    const health = await integrations();
    for (const metric of Object.values(integrationGauges)) metric.reset();
    for (const { name, kind, up, lastSyncAt, failures } of health) {
      integrationGauges.up.set({ name, kind }, up ? 1 : 0);
      if (lastSyncAt !== null) integrationGauges.lastSync.set({ name, kind }, lastSyncAt / 1000);
      integrationGauges.errors.inc({ name, kind }, failures);
    }
  }

  return {
    contentType: registry.contentType,

    /**
     * Adds the process metrics (memory, CPU, event-loop lag, GC), whose collectors watch the event loop: only a
     * serving process does (startServices), never the CLI.
     */
    start(): void {
      if (started) return;
      started = true;
      collectDefaultMetrics({ register: registry });
    },

    /** The exposition of every family, in the Prometheus text format. */
    async render(): Promise<string> {
      await collectIntegrations();
      return registry.metrics();
    },

    /** One answered hook request (called by the hook routes' onResponse hook); `elapsedMs` from Fastify. */
    hookAnswered(kind: HookKind, status: number, elapsedMs: number): void {
      hookRequests.inc({ kind, status: String(status) });
      hookLatency.observe({ kind }, elapsedMs / 1000);
    },
  };
}
