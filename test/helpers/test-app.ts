import { randomBytes } from 'node:crypto';
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { type BuildAppOptions, buildApp } from '../../src/app.js';
import { ensureRootUser } from '../../src/bootstrap.js';
import { ManualClock } from '../../src/core/clock.js';
import { PasswordHasher, type PasswordHasherOptions } from '../../src/core/crypto/password-hasher.js';
import { DomainEventBus } from '../../src/core/events.js';
import type { Engine } from '../../src/db/database.js';
import { totpCodeAt, totpStep } from '../../src/modules/mfa/mfa.crypto.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import type { CreateUserInput } from '../../src/modules/users/users.schemas.js';
import { createServices, type Infrastructure, type Services, startServices } from '../../src/services.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export const ROOT_PASSWORD = 'Root-Passw0rd!';
export const STRONG_PASSWORD = 'Str0ng-Passw0rd!';

/** Cheap argon2 parameters for fixtures; the production parameters have their own test. */
export const FAST_HASH = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export interface TestContext {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly clock: ManualClock;
  readonly database: TestDatabase;
  /** Creates a user directly through the service (actor `cli`). */
  createUser(input: Partial<CreateUserInput> & { username: string }): Promise<void>;
  /** Logs in and returns the session cookie header value (also when the login still has a `next` step). */
  login(username: string, password?: string): Promise<string>;
  /** One API call through `inject`, with an optional session cookie, JSON body and extra headers. */
  call(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    options?: { cookie?: string; payload?: object; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function createTestContext(
  options: {
    engine?: Engine;
    realHash?: boolean;
    hasher?: PasswordHasherOptions;
    /** App options besides the services (e.g. `metricsAllowFrom`). */
    app?: Omit<BuildAppOptions, 'services'>;
    /** How OpenID providers' key sets are fetched for MQTT tokens (shorter waits). */
    providerKeys?: Infrastructure['providerKeys'];
  } = {},
): Promise<TestContext> {
  const database = await createTestDatabase(options.engine ?? 'sqlite');
  const clock = new ManualClock(Date.now());
  const services = createServices({
    db: database.db,
    engine: database.engine,
    clock,
    hasher: new PasswordHasher({ ...(options.realHash ? {} : { params: FAST_HASH }), ...options.hasher }),
    events: new DomainEventBus((error) => {
      throw error;
    }),
    // A fixed random key per context: sealed TOTP secrets never open in another test's database.
    secretKey: randomBytes(32).toString('base64url'),
    ...(database.notifications ? { notifications: database.notifications } : {}),
    ...(database.locks ? { locks: database.locks } : {}),
    ...(options.providerKeys ? { providerKeys: options.providerKeys } : {}),
  });
  await ensureRootUser(services, ROOT_PASSWORD);
  // As the server does: caches follow changes and live enforcement runs.
  const stopServices = await startServices(services);
  const app = await buildApp({ ...options.app, services });
  await app.ready();

  async function login(username: string, password = STRONG_PASSWORD): Promise<string> {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username, password },
    });
    if (response.statusCode !== 200)
      throw new Error(`login ${username} failed: ${response.statusCode} ${response.body}`);
    return sessionCookie(response);
  }

  return {
    app,
    services,
    clock,
    database,
    async createUser(input) {
      await services.users.create(CLI_CONTEXT, { password: STRONG_PASSWORD, role: 'viewer', ...input });
    },
    login,
    call(method, url, { cookie, payload, headers } = {}) {
      return app.inject({
        method,
        url,
        headers: { ...(cookie ? { cookie } : {}), ...headers },
        ...(payload ? { payload } : {}),
      });
    },
    async close() {
      await app.close();
      await stopServices();
      await database.destroy();
    },
  };
}

/** The `name=value` of the session cookie set by a response. */
export function sessionCookie(response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === 'warden_session');
  if (!cookie) throw new Error('no session cookie in response');
  return `${cookie.name}=${cookie.value}`;
}

/** The code an authenticator app would show for a base32 TOTP secret at `atMs` (± whole 30 s steps). */
export function totpCode(secret: string, atMs: number, stepOffset = 0): string {
  return totpCodeAt(decodeBase32IgnorePadding(secret), totpStep(atMs) + stepOffset);
}

/**
 * Enrols a TOTP authenticator for the session's user through the API and returns the secret, the recovery
 * codes and the session cookie to use from now on (a session held at `mfa_enroll` gets a new token when the
 * enrolment completes its login); moves the clock on one step so the confirming code is not the next one a
 * test sends.
 */
export async function enrolTotp(
  t: TestContext,
  cookie: string,
): Promise<{ secret: string; recoveryCodes: string[]; cookie: string }> {
  const begin = await t.call('POST', '/api/v1/me/mfa/totp', { cookie });
  if (begin.statusCode !== 200) throw new Error(`enrol failed: ${begin.statusCode} ${begin.body}`);
  const { secret } = begin.json() as { secret: string };
  const confirm = await t.call('POST', '/api/v1/me/mfa/totp/confirm', {
    cookie,
    payload: { code: totpCode(secret, t.clock.now()) },
  });
  if (confirm.statusCode !== 200) throw new Error(`confirm failed: ${confirm.statusCode} ${confirm.body}`);
  t.clock.advance(30_000);
  const rotated = confirm.cookies.some((c) => c.name === 'warden_session');
  return {
    secret,
    recoveryCodes: (confirm.json() as { recoveryCodes: string[] }).recoveryCodes,
    cookie: rotated ? sessionCookie(confirm) : cookie,
  };
}
