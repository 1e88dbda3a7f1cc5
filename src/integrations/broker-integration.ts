/**
 * The one port through which Warden drives external MQTT brokers (docs/architecture.md#integrations). Two
 * families implement it:
 * - **sync adapters** (Mosquitto dynamic security) copy Warden's users and access rules into the broker and
 *   keep them in step, so the broker decides by itself;
 * - **hook adapters** (EMQX, mosquitto-go-auth, VerneMQ) let the broker ask Warden on every CONNECT /
 *   PUBLISH / SUBSCRIBE; for them "sync" means purging the broker's decision cache and kicking revoked clients
 *   where the broker has an API for it.
 * Every adapter passes the conformance suite in test/contracts/broker-conformance.test.ts.
 */

import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { DomainEvents } from '../core/events.js';
import type { AccessRule } from '../modules/access-engine/index.js';

export const BROKER_KINDS = ['mosquitto', 'emqx', 'go-auth', 'vernemq'] as const;
/** Which broker an integration talks to. */
export type BrokerKind = (typeof BROKER_KINDS)[number];
/** The kinds that call Warden's hook endpoints. */
export const HOOK_KINDS = ['emqx', 'go-auth', 'vernemq'] as const;
export type HookKind = (typeof HOOK_KINDS)[number];

export function isHookKind(kind: BrokerKind): kind is HookKind {
  return (HOOK_KINDS as readonly string[]).includes(kind);
}

/** A committed change an adapter may have to mirror: the domain events of src/core/events.ts, tagged. */
export type BrokerChange =
  | ({ readonly subject: 'user' } & DomainEvents['user.changed'])
  | ({ readonly subject: 'access_role' } & DomainEvents['access_role.changed']);

/** One difference between Warden and the broker, and the broker requests that remove it. */
export interface SyncChange {
  readonly action: 'create' | 'update' | 'delete' | 'enable' | 'disable' | 'purge' | 'kick';
  readonly target: 'default_acl' | 'group' | 'role' | 'client' | 'authz_cache' | 'connection';
  /** The broker-side name (role name, username, client id, or `*` for everything). */
  readonly name: string;
  /** What differs, for people (`roles: [a] → [a, b]`). */
  readonly detail: string;
  /** The exact requests (dynsec commands, REST calls) with secrets redacted. */
  readonly requests: unknown[];
}

/** The outcome of a full reconcile: the diff, and whether it was applied. */
export interface SyncReport {
  readonly integration: string;
  readonly kind: BrokerKind;
  readonly dryRun: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly changes: SyncChange[];
  /** What could not be mirrored exactly (e.g. QoS conditions dynsec cannot express), per rule. */
  readonly warnings: string[];
}

/** Live state of one integration, for the status API, the CLI and the console. */
export interface BrokerStatus {
  readonly name: string;
  readonly kind: BrokerKind;
  readonly enabled: boolean;
  /** Whether this process runs the integration (false in the CLI and for disabled ones). */
  readonly running: boolean;
  /**
   * Whether Warden's outbound link works: the admin session (Mosquitto), the last management call (EMQX with a
   * management URL); null when there is no outbound link (hook-only integrations).
   */
  readonly connected: boolean | null;
  /** End of the last successful full reconcile or cache purge (ISO 8601). */
  readonly lastSyncAt: string | null;
  /** How many changes that sync applied. */
  readonly lastSyncChanges: number | null;
  /** The last failure (connection, timeout, refused command); cleared by the next success. */
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  /**
   * Mosquitto only: active users whose broker password Warden cannot know yet (created before the integration,
   * or changed while the broker was unreachable and Warden restarted since); they need a password reset to
   * log in there. `queued` are waiting in memory for the broker to come back.
   */
  readonly pendingPasswords?: { count: number; usernames: string[]; queued: number };
  /** Hook integrations: requests answered since start and the time of the last one. */
  readonly hooks?: { requests: number; lastRequestAt: string | null };
  /**
   * The instance that runs the duties (syncs, purges, kicks) for every integration (docs/deployment.md#duties),
   * its heartbeat, and whether it is the one answering; null before any instance took them.
   */
  readonly duty: { instance: string; since: string; heartbeatAt: string; here: boolean } | null;
}

/** The part of {@link BrokerStatus} an adapter knows; the rest is persisted by the brokers module. */
export type LiveStatus = Pick<BrokerStatus, 'connected' | 'pendingPasswords' | 'hooks'>;

/** A Warden user as adapters see it (no secrets). */
export interface DirectoryUser {
  readonly username: string;
  readonly active: boolean;
  readonly description: string;
  readonly kind: string;
  /** Whether the user logs in with a local password (SSO users have none to mirror). */
  readonly localPassword: boolean;
  /** Access-role names in evaluation order. */
  readonly accessRoles: readonly string[];
}

/** An access role as adapters see it: its MQTT rules only (HTTP rules are for forward-auth). */
export interface DirectoryRole {
  readonly name: string;
  readonly description: string;
  readonly rules: readonly AccessRule[];
}

/** Read access to Warden's users and access roles, through their services (never their tables). */
export interface WardenDirectory {
  /** Every user, inactive ones included, in username order. */
  users(): AsyncIterable<DirectoryUser>;
  /** One user by (case-insensitive) name, or null. */
  user(username: string): Promise<DirectoryUser | null>;
  /** Every access role. */
  roles(): Promise<DirectoryRole[]>;
}

/** What adapters report so that the status survives restarts and is visible to the CLI. */
export interface StatusSink {
  /** A reconcile or purge finished: `changes` applied at `at` (epoch ms). */
  synced(at: number, changes: number): void;
  /** Something failed (null clears the error). */
  failed(error: string | null, at: number): void;
}

/** Infrastructure every adapter is built with. */
export interface IntegrationContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly status: StatusSink;
}

/**
 * One configured broker integration. Running adapters never throw out of `start`, `handleChange` or
 * `passwordSet`: failures are reported through the status (`lastError`) and healed by the next full reconcile.
 * A never-started adapter (the CLI's one-off push) rejects from `passwordSet`, as from `reconcile`, so the
 * caller can say that the password did not arrive.
 */
export interface BrokerIntegration {
  /** The integration's unique name (`/api/v1/brokers/{name}`). */
  readonly name: string;
  readonly kind: BrokerKind;

  /**
   * Starts the integration: opens the outbound link if there is one and runs the first full reconcile (sync
   * adapters) once it is up. Resolves without waiting for the broker; an unreachable broker shows in
   * `status().connected` and is retried in the background.
   */
  start(): Promise<void>;

  /** Stops: closes outbound links, drops queued work, stops listening to changes. Idempotent. */
  stop(): Promise<void>;

  /**
   * Full reconcile: computes what differs between Warden and the broker and, unless `dryRun`, sends exactly the
   * requests that remove the differences (nothing for what already matches). Rejects when the broker cannot
   * be reached or refuses a request.
   */
  reconcile(options: { readonly dryRun: boolean }): Promise<SyncReport>;

  /**
   * Mirrors one committed change (a user created, updated, deactivated, re-assigned or deleted; an access role
   * created, changed or deleted). Work is queued and applied in order; failures are reported and leave a full
   * reconcile to heal.
   */
  handleChange(change: BrokerChange): Promise<void>;

  /**
   * A user's password was just set (the only moment Warden knows the plaintext). Sync adapters push it to the
   * broker and forget it; hook adapters do nothing (the broker asks Warden at every CONNECT). The password is
   * never logged, audited or persisted in clear.
   */
  passwordSet(username: string, password: string): Promise<void>;

  /**
   * The adapter's part of the status: the outbound link, passwords it is waiting for, hook traffic. Works on an
   * adapter that was never started (the CLI), which then reports `connected: false` or null.
   */
  status(): Promise<LiveStatus>;

  /** Resolves once every change queued so far has been applied or has failed (tests, the CLI). */
  idle(): Promise<void>;
}
