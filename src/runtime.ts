import type { Config } from './config/config.js';
import { systemClock } from './core/clock.js';
import { PasswordHasher } from './core/crypto/password-hasher.js';
import { loadSecretKey } from './core/crypto/secret-key.js';
import { DomainEventBus } from './core/events.js';
import { type DatabaseHandle, migrateToLatest, openDatabase } from './db/database.js';
import { createServices, type Services } from './services.js';

/** Everything `serve` and the CLI share: an open, migrated database and the wired services. */
export interface Runtime {
  readonly handle: DatabaseHandle;
  readonly services: Services;
  close(): Promise<void>;
}

export async function openRuntime(
  config: Config,
  options: { onListenerError?: (error: unknown, event: string) => void } = {},
): Promise<Runtime> {
  // Read (or generated) before the database opens, so a bad data dir fails without leaving a connection open.
  const secretKey = loadSecretKey(config.secretKey, config.dataDir);
  const handle = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(handle.db);
  } catch (error) {
    await handle.close();
    throw error;
  }
  const services = createServices({
    db: handle.db,
    engine: handle.engine,
    clock: systemClock,
    hasher: new PasswordHasher(),
    events: new DomainEventBus(options.onListenerError),
    secretKey,
    ...(handle.notifications ? { notifications: handle.notifications } : {}),
    ...(handle.locks ? { locks: handle.locks } : {}),
    instance: config.instanceId,
  });
  return { handle, services, close: () => handle.close() };
}
