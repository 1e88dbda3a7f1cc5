/**
 * Warden's services for the benchmarks: a fresh (or given) SQLite database, migrated and started as
 * `warden serve` starts them, with the system clock.
 */

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { PasswordHasher, type PasswordHasherOptions } from '../../src/core/crypto/password-hasher.js';
import { DomainEventBus } from '../../src/core/events.js';
import { migrateToLatest, openDatabase } from '../../src/db/database.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { DEFAULT_SECURITY_SETTINGS } from '../../src/modules/settings/settings.schemas.js';
import type { Services } from '../../src/services.js';
import { createServices, startServices } from '../../src/services.js';

/** Cheap argon2 parameters, for benchmarks that measure something other than password hashing. */
export const FAST_HASH: PasswordHasherOptions = { params: { memoryCost: 1024, timeCost: 1, parallelism: 1 } };

export interface BenchServices {
  readonly services: Services;
  close(): Promise<void>;
}

/**
 * Services on a fresh SQLite file with the system clock. All load comes from 127.0.0.1, so the per-address
 * failure budget is raised: the benchmarks measure the broker, not the throttle.
 */
export async function openBenchServices(hasher: PasswordHasherOptions = {}): Promise<BenchServices> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-mqtt-bench-'));
  const opened = await openServicesAt(dir, randomBytes(32).toString('base64url'), hasher);
  await opened.services.settings.putSecurity(CLI_CONTEXT, {
    ...DEFAULT_SECURITY_SETTINGS,
    throttle: { ...DEFAULT_SECURITY_SETTINGS.throttle, maxAttemptsPerIp: 100_000 },
  });
  return {
    services: opened.services,
    close: async () => {
      await opened.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Started services on the (migrated) SQLite database in `dir`, as `warden serve` would open it: a second
 * process on a database seeded by the first is a Warden just restarted, with every cache empty.
 */
export async function openServicesAt(
  dir: string,
  secretKey: string,
  hasher: PasswordHasherOptions = {},
): Promise<BenchServices> {
  const handle = openDatabase({ databaseUrl: null, dataDir: dir });
  await migrateToLatest(handle.db);
  const services = createServices({
    db: handle.db,
    engine: handle.engine,
    clock: systemClock,
    hasher: new PasswordHasher(hasher),
    events: new DomainEventBus((error) => process.stderr.write(`listener failed: ${String(error)}\n`)),
    secretKey,
  });
  const stopServices = await startServices(services);
  return {
    services,
    close: async () => {
      await stopServices();
      await handle.close();
    },
  };
}
