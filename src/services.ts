import os from 'node:os';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from './core/clock.js';
import { CredentialHasher } from './core/crypto/credential-hasher.js';
import type { PasswordHasher } from './core/crypto/password-hasher.js';
import { createSecretBox } from './core/crypto/secret-box.js';
import type { DomainEventBus } from './core/events.js';
import { type ChangeFeed, createChangeFeed } from './db/change-feed/change-feed.js';
import type { Engine } from './db/database.js';
import type { LockSource, NotificationSource } from './db/dialects/postgres.js';
import { createLeadership, type Leadership } from './db/leadership/leadership.js';
import type { Database } from './db/schema.js';
import { type AccessService, createAccessService } from './modules/access/access.service.js';
import {
  type AccessRolesService,
  createAccessRolesService,
} from './modules/access-roles/access-roles.service.js';
import { type ApiKeysService, createApiKeysService } from './modules/api-keys/api-keys.service.js';
import { type AuditService, createAuditService } from './modules/audit/audit.service.js';
import { type AuthService, createAuthService } from './modules/auth/auth.service.js';
import { createBrokerCredentials } from './modules/brokers/broker-credentials.js';
import { createDirectory } from './modules/brokers/broker-directory.js';
import { type BrokersService, createBrokersService } from './modules/brokers/brokers.service.js';
import {
  type CertificatesService,
  createCertificatesService,
} from './modules/certificates/certificates.service.js';
import { apiKeyBearer } from './modules/forward-auth/api-key-bearer.js';
import { createBasicCredentials } from './modules/forward-auth/basic-credentials.js';
import {
  createForwardAuthService,
  type ForwardAuthService,
} from './modules/forward-auth/forward-auth.service.js';
import { AuditOutcomes } from './modules/metrics/audit-outcomes.js';
import { createMetricsService, type MetricsService } from './modules/metrics/metrics.service.js';
import {
  createScrapeTokensService,
  type ScrapeTokensService,
} from './modules/metrics/scrape-tokens.service.js';
import { createMfaService, type MfaService } from './modules/mfa/mfa.service.js';
import { DecisionCounts } from './modules/mqtt/decision-counts.js';
import { startLiveEnforcement } from './modules/mqtt/live-enforcement.js';
import { createMqttAuthService, type MqttAuthService } from './modules/mqtt/mqtt-auth.service.js';
import {
  createMqttConnectionsService,
  type MqttConnectionsService,
} from './modules/mqtt/mqtt-connections.service.js';
import { createPublishDenialsService, type PublishDenialsService } from './modules/mqtt/publish-denials.js';
import type { MqttTokensService } from './modules/mqtt-tokens/mqtt-tokens.service.js';
import { createMqttTokens, type ProviderKeysTuning } from './modules/mqtt-tokens/mqtt-tokens.wiring.js';
import { createRegistryService, type RegistryService } from './modules/registry/registry.service.js';
import {
  createRegistryTokensService,
  type RegistryTokensService,
} from './modules/registry/registry-tokens.service.js';
import { createSessionsService, type SessionsService } from './modules/sessions/sessions.service.js';
import { createSettingsService, type SettingsService } from './modules/settings/settings.service.js';
import { OidcDiscovery } from './modules/sso/oidc-discovery.js';
import { createSsoLoginService, type SsoLoginService } from './modules/sso/sso-login.service.js';
import {
  createSsoProviderDirectory,
  type SsoProviderDirectory,
} from './modules/sso/sso-provider-directory.js';
import { createSsoProvidersService, type SsoProvidersService } from './modules/sso/sso-providers.service.js';
import { createThrottleService, type ThrottleService } from './modules/throttle/throttle.service.js';
import { createUserReader, type UserReader } from './modules/users/users.reader.js';
import { createUsersService, type UsersService } from './modules/users/users.service.js';

/** The infrastructure every service is built from; tests build it with a manual clock and a temp database. */
export interface Infrastructure {
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  readonly clock: Clock;
  /** The argon2id pool (passwords people chose); generated secrets use a keyed hash beside it. */
  readonly hasher: PasswordHasher;
  readonly events: DomainEventBus;
  /**
   * WARDEN_SECRET_KEY or the generated key file: keys for encryption at rest (TOTP secrets), the keyed hash of
   * generated secrets and the MQTT credential cache are derived from it, each under its own label.
   */
  readonly secretKey: string;
  /** PostgreSQL: wake-ups for the change feed's followers (SQLite followers poll). */
  readonly notifications?: NotificationSource;
  /** PostgreSQL: session locks for electing the instance that runs the duties (SQLite: this one does). */
  readonly locks?: LockSource;
  /** This instance's name (WARDEN_INSTANCE_ID); defaults to host name and process id. */
  readonly instance?: string;
  /** How OpenID providers' key sets are fetched for MQTT tokens (tests shorten the waits). */
  readonly providerKeys?: ProviderKeysTuning;
}

/** All feature services, wired once. The HTTP routes, the CLI and the broker use these same instances. */
export interface Services {
  readonly infra: Infrastructure;
  /** Hashes and verifies every stored credential: argon2id for chosen passwords, a keyed hash for generated ones. */
  readonly credentials: CredentialHasher;
  /** The change feed: every decision-relevant change, recorded in its transaction and followed by every process. */
  readonly changes: ChangeFeed;
  /** Which instance runs the duties that must run once (broker syncs, purges, kicks). */
  readonly leadership: Leadership;
  readonly audit: AuditService;
  readonly settings: SettingsService;
  /** Read-only user rows for the modules that decide about users. */
  readonly userReader: UserReader;
  readonly users: UsersService;
  /** The configured OpenID Connect providers, read by sign-in, users' authentication method and MQTT tokens. */
  readonly ssoProviders: SsoProviderDirectory;
  /** Signing in with an SSO provider: the start, the callback, RP-initiated logout. */
  readonly ssoLogin: SsoLoginService;
  /** SSO provider management: create, change, delete and test providers (the API, console and CLI). */
  readonly ssoProviderAdmin: SsoProvidersService;
  readonly sessions: SessionsService;
  readonly throttle: ThrottleService;
  readonly auth: AuthService;
  readonly mfa: MfaService;
  readonly accessRoles: AccessRolesService;
  /** Per-user compiled MQTT rules: decide, explain, effective access. */
  readonly access: AccessService;
  readonly mqttAuth: MqttAuthService;
  /** Warden MQTT tokens, issued to users for CONNECTs with a JWT as password. */
  readonly mqttTokens: MqttTokensService;
  /** Connections of the embedded broker (live enforcement acts on them). */
  readonly mqttConnections: MqttConnectionsService;
  /** The embedded broker's refused publishes, audited without flooding the log. */
  readonly mqttPublishDenials: PublishDenialsService;
  /** External broker integrations (Mosquitto sync, EMQX / go-auth / VerneMQ hooks). */
  readonly brokers: BrokersService;
  /** API keys: their management, and the authentication of `Authorization: Bearer` requests. */
  readonly apiKeys: ApiKeysService;
  /** Forward-auth for reverse proxies: identities of forwarded requests, decided by users' HTTP rules. */
  readonly forwardAuth: ForwardAuthService;
  /** MQTT decisions of the embedded broker and the hooks, counted for the metrics. */
  readonly mqttDecisions: DecisionCounts;
  /** Tokens that let Prometheus scrape `/metrics`. */
  readonly scrapeTokens: ScrapeTokensService;
  /** The Prometheus registry of this process (`GET /metrics`). */
  readonly metrics: MetricsService;
  /** Warden's CA: device certificates from CSRs, their list and revocation, and their trust for MQTT over TLS. */
  readonly certificates: CertificatesService;
  /** The device client registry: unlocks, devices' requests and polls, approvals, one-time credential delivery. */
  readonly registry: RegistryService;
  /** Enrolment tokens that let a batch of devices register while the registry is locked. */
  readonly registryTokens: RegistryTokensService;
}

/**
 * Wiring only: every service is built once, in dependency order (each from services built before it), and
 * construction has no side effects — nothing subscribes, connects or starts here. The CLI uses the services as
 * they are; the server then calls {@link startServices}.
 */
export function createServices(infra: Infrastructure): Services {
  const { db, engine, clock, events } = infra;
  const secretBox = createSecretBox(infra.secretKey);
  const hasher = new CredentialHasher(infra.hasher, infra.secretKey);
  const changes = createChangeFeed({
    db,
    engine,
    clock,
    events,
    ...(infra.notifications ? { notifications: infra.notifications } : {}),
  });
  const leadership = createLeadership({
    db,
    clock,
    instance: infra.instance ?? `${os.hostname()}:${process.pid}`,
    ...(infra.locks ? { locks: infra.locks } : {}),
  });
  // Login, MFA and throttling outcomes are counted for the metrics where they are audited.
  const outcomes = new AuditOutcomes();
  const audit = createAuditService({ db, clock, observe: outcomes.observe });
  const settings = createSettingsService({ db, clock, audit, changes });
  const userReader = createUserReader({ db });
  const ssoProviders = createSsoProviderDirectory({ db, secretBox });
  const accessRoles = createAccessRolesService({ db, engine, clock, audit, changes });
  const sessions = createSessionsService({ db, clock, settings, audit, users: userReader, changes });
  const throttle = createThrottleService({ db, engine, clock, settings });
  const mfa = createMfaService({
    db,
    clock,
    hasher,
    audit,
    settings,
    throttle,
    secretBox,
    users: userReader,
    changes,
  });
  // The users service's password sink: stores the broker-format record; delivery to brokers is started later.
  const brokerCredentials = createBrokerCredentials({ db, clock, box: secretBox });
  const users = createUsersService({
    db,
    engine,
    clock,
    hasher,
    audit,
    settings,
    changes,
    accessRoles,
    sessions,
    mfa,
    passwords: brokerCredentials,
    ssoProviders,
  });
  const auth = createAuthService({
    db,
    engine,
    clock,
    hasher,
    audit,
    settings,
    sessions,
    users,
    userReader,
    throttle,
    mfa,
    changes,
  });
  // One cache of the providers' discovered metadata for sign-in and MQTT tokens.
  const discovery = new OidcDiscovery(clock);
  const ssoLogin = createSsoLoginService({
    db,
    engine,
    clock,
    secretBox,
    audit,
    settings,
    sessions,
    users,
    userReader,
    ssoProviders,
    changes,
    discovery,
  });
  const access = createAccessService({ users: userReader, accessRoles });
  const certificates = createCertificatesService({
    db,
    clock,
    box: secretBox,
    audit,
    changes,
    users: userReader,
  });
  const mqttTokens = createMqttTokens({
    db,
    clock,
    audit,
    throttle,
    users: userReader,
    ssoProviders,
    secretKey: infra.secretKey,
    discovery,
    ...(infra.providerKeys ? { providerKeys: infra.providerKeys } : {}),
  });
  const mqttAuth = createMqttAuthService({
    db,
    clock,
    hasher,
    throttle,
    audit,
    users: userReader,
    generatedSecrets: users,
    secretKey: infra.secretKey,
    tokens: mqttTokens.authenticator,
    trustworthy: () => changes.trustworthy(),
    certificates,
  });
  const mqttConnections = createMqttConnectionsService({ db, audit });
  const mqttPublishDenials = createPublishDenialsService({ db, clock, audit });
  const brokers = createBrokersService({
    db,
    clock,
    audit,
    box: secretBox,
    events,
    changes,
    leadership,
    directory: createDirectory({ users, accessRoles }),
    credentials: brokerCredentials,
    hookServices: {
      access,
      mqttAuth,
      userExists: async (username) => (await userReader.findRow(username)) !== undefined,
    },
  });
  const apiKeys = createApiKeysService({
    db,
    clock,
    audit,
    credentials: hasher,
    users: userReader,
    throttle,
  });
  const forwardAuth = createForwardAuthService({
    clock,
    sessions,
    basic: createBasicCredentials({
      clock,
      hasher,
      throttle,
      settings,
      mfa,
      users: userReader,
      secretKey: infra.secretKey,
    }),
    access,
    trustworthy: () => changes.trustworthy(),
    bearer: apiKeyBearer(apiKeys),
  });
  const ssoProviderAdmin = createSsoProvidersService({
    db,
    engine,
    clock,
    audit,
    changes,
    secretBox,
    users: userReader,
    sessions,
  });
  const mqttDecisions = new DecisionCounts();
  const scrapeTokens = createScrapeTokensService({ db, clock, audit, credentials: hasher });
  const metrics = createMetricsService({
    clock,
    credentials: hasher,
    outcomes,
    mqttDecisions,
    mqttConnections,
    countSessions: () => sessions.countLive(),
    countUsers: () => userReader.countByRoleAndStatus(),
    integrations: () => brokers.metricsSnapshot(),
  });
  const registryTokens = createRegistryTokensService({ db, clock, audit, credentials: hasher });
  const registry = createRegistryService({
    db,
    engine,
    clock,
    audit,
    credentials: hasher,
    changes,
    users,
    userReader,
    tokens: registryTokens,
    certificates,
  });
  return {
    infra,
    credentials: hasher,
    changes,
    leadership,
    audit,
    settings,
    userReader,
    users,
    ssoProviders,
    ssoLogin,
    ssoProviderAdmin,
    sessions,
    throttle,
    auth,
    mfa,
    accessRoles,
    access,
    mqttAuth,
    mqttTokens: mqttTokens.service,
    mqttConnections,
    mqttPublishDenials,
    brokers,
    apiKeys,
    forwardAuth,
    mqttDecisions,
    scrapeTokens,
    metrics,
    certificates,
    registry,
    registryTokens,
  };
}

/**
 * The one place where a process starts following changes and enforcing them live: the change feed's follower
 * delivers every committed change (made here, by the CLI or by another instance) to the decision caches, the
 * cached security settings, live enforcement (closes and trims MQTT connections) and the broker integrations,
 * which start here and receive passwords as they are set. Only a serving process calls it (src/server.ts; tests
 * that exercise live behaviour do the same); the returned function stops everything it started.
 */
export async function startServices(
  services: Services,
  options: { logger?: Logger } = {},
): Promise<() => Promise<void>> {
  const { events } = services.infra;
  // Listeners first, so that nothing the follower delivers goes unheard.
  const stopAccess = services.access.start(events);
  const stopCredentials = services.mqttAuth.start(events);
  const stopCertificates = services.certificates.start(events);
  const stopForwardAuth = services.forwardAuth.start(events);
  const stopSettings = await services.settings.follow(events);
  services.metrics.start();
  const stopEnforcement = startLiveEnforcement({
    events,
    clock: services.infra.clock,
    access: services.access,
    connections: services.mqttConnections,
  });
  // The election before the integrations, so they start where the duties are held.
  const stopLeading = await services.leadership.start(options);
  await services.brokers.start(options);
  const stopLastUsed = services.apiKeys.start(options);
  const stopRegistryCleanup = services.registry.start({
    ...options,
    runs: () => services.leadership.isLeader(),
  });
  const stopFollowing = await services.changes.follow({
    ...options,
    prunes: () => services.leadership.isLeader(),
  });
  return async () => {
    await stopFollowing();
    stopRegistryCleanup();
    await stopLastUsed();
    await services.brokers.stop();
    await stopLeading();
    stopEnforcement();
    stopSettings();
    stopForwardAuth();
    stopCertificates();
    stopCredentials();
    stopAccess();
  };
}
