import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { ensureRootUser } from '../../src/bootstrap.js';
import { systemClock } from '../../src/core/clock.js';
import { PasswordHasher } from '../../src/core/crypto/password-hasher.js';
import { DomainEventBus } from '../../src/core/events.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import type { CreateUserInput } from '../../src/modules/users/users.schemas.js';
import { createServices, type Services, startServices } from '../../src/services.js';
import { createTestDatabase } from '../helpers/databases.js';
import { FAST_HASH, ROOT_PASSWORD, STRONG_PASSWORD } from '../helpers/test-app.js';
import { WEB_DIST } from './console-build.js';

export { ROOT_PASSWORD, STRONG_PASSWORD };

export interface ConsoleServer {
  readonly url: string;
  readonly services: Services;
  /** Creates a user through the service layer (actor `cli`), password {@link STRONG_PASSWORD} by default. */
  createUser(input: Partial<CreateUserInput> & { username: string }): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real Warden on a free port serving the built console, on a temp SQLite database. The real clock is used
 * (TOTP codes are generated from it by the browser tests); passwords use cheap argon2 parameters so hundreds
 * of fixture users are created in seconds.
 */
export async function startConsoleServer(): Promise<ConsoleServer> {
  const database = await createTestDatabase('sqlite');
  const services = createServices({
    db: database.db,
    engine: database.engine,
    clock: systemClock,
    hasher: new PasswordHasher({ params: FAST_HASH }),
    events: new DomainEventBus((error) => {
      throw error;
    }),
    secretKey: randomBytes(32).toString('base64url'),
  });
  await ensureRootUser(services, ROOT_PASSWORD);
  const stopServices = await startServices(services);
  const app: FastifyInstance = await buildApp({ services, webRoot: WEB_DIST });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('server has no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    services,
    async createUser(input) {
      await services.users.create(CLI_CONTEXT, { password: STRONG_PASSWORD, role: 'viewer', ...input });
    },
    async close() {
      await app.close();
      await stopServices();
      await database.destroy();
    },
  };
}
