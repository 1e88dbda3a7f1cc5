import type { Kysely } from 'kysely';
import type { Clock } from './core/clock.js';
import type { PasswordHasher } from './core/crypto/password-hasher.js';
import type { DomainEventBus } from './core/events.js';
import type { Engine } from './db/database.js';
import type { Database } from './db/schema.js';
import { type AuditService, createAuditService } from './modules/audit/audit.service.js';
import { type AuthService, createAuthService } from './modules/auth/auth.service.js';
import { createThrottleService, type ThrottleService } from './modules/auth/throttle.service.js';
import { createSessionsService, type SessionsService } from './modules/sessions/sessions.service.js';
import { createSettingsService, type SettingsService } from './modules/settings/settings.service.js';
import { createUsersService, type UsersService } from './modules/users/users.service.js';

/** The infrastructure every service is built from; tests build it with a manual clock and a temp database. */
export interface Infrastructure {
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  readonly clock: Clock;
  readonly hasher: PasswordHasher;
  readonly events: DomainEventBus;
}

/** All feature services, wired once. The HTTP routes, the CLI and the broker use these same instances. */
export interface Services {
  readonly infra: Infrastructure;
  readonly audit: AuditService;
  readonly settings: SettingsService;
  readonly users: UsersService;
  readonly sessions: SessionsService;
  readonly throttle: ThrottleService;
  readonly auth: AuthService;
}

export function createServices(infra: Infrastructure): Services {
  const { db, engine, clock, hasher, events } = infra;
  const audit = createAuditService({ db, clock });
  const settings = createSettingsService({ db, clock, audit, events });
  const users = createUsersService({ db, engine, clock, hasher, audit, settings, events });
  const sessions = createSessionsService({ db, clock, settings });
  const throttle = createThrottleService({ db, engine, clock, settings });
  const auth = createAuthService({ db, clock, hasher, audit, settings, sessions, users, throttle });
  return { infra, audit, settings, users, sessions, throttle, auth };
}
