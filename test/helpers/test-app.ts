import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { ensureRootUser } from '../../src/bootstrap.js';
import { ManualClock } from '../../src/core/clock.js';
import { PasswordHasher } from '../../src/core/crypto/password-hasher.js';
import { DomainEventBus } from '../../src/core/events.js';
import type { Engine } from '../../src/db/database.js';
import { CLI_CONTEXT } from '../../src/modules/roles/operation-context.js';
import type { CreateUserInput } from '../../src/modules/users/users.schemas.js';
import { createServices, type Services } from '../../src/services.js';
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
  /** Logs in and returns the session cookie header value. */
  login(username: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

export async function createTestContext(
  options: { engine?: Engine; realHash?: boolean } = {},
): Promise<TestContext> {
  const database = await createTestDatabase(options.engine ?? 'sqlite');
  const clock = new ManualClock(Date.now());
  const services = createServices({
    db: database.db,
    engine: database.engine,
    clock,
    hasher: new PasswordHasher(options.realHash ? {} : { params: FAST_HASH }),
    events: new DomainEventBus((error) => {
      throw error;
    }),
  });
  await ensureRootUser(services, ROOT_PASSWORD);
  const app = await buildApp({ services });
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
    async close() {
      await app.close();
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
