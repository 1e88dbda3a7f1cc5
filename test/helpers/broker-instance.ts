/**
 * One more Warden instance's embedded broker, as a process a test can kill (SIGKILL: a crash, nothing closed).
 * Started by test/e2e/embedded-broker-cluster.e2e.test.ts; reads its settings from WARDEN_TEST_INSTANCE (JSON)
 * and prints `listening <port>` once its broker accepts connections.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { systemClock } from '../../src/core/clock.js';
import { PasswordHasher } from '../../src/core/crypto/password-hasher.js';
import { DomainEventBus } from '../../src/core/events.js';
import { type OpenDatabaseOptions, openDatabase } from '../../src/db/database.js';
import { startEmbeddedBroker } from '../../src/integrations/aedes/embedded-broker.js';
import { createServices, startServices } from '../../src/services.js';
import { FAST_HASH } from './test-app.js';

interface InstanceSettings {
  readonly location: OpenDatabaseOptions;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly heartbeatIntervalMs: number;
}

const settings = JSON.parse(process.env.WARDEN_TEST_INSTANCE ?? '') as InstanceSettings;
const handle = openDatabase(settings.location);
const services = createServices({
  db: handle.db,
  engine: handle.engine,
  clock: systemClock,
  hasher: new PasswordHasher({ params: FAST_HASH }),
  events: new DomainEventBus((error) => process.stderr.write(`listener failed: ${String(error)}\n`)),
  secretKey: randomBytes(32).toString('base64url'),
});
await startServices(services);
const broker = await startEmbeddedBroker({
  services,
  logger: pino({ level: 'warn' }, pino.destination(2)),
  host: '127.0.0.1',
  port: 0,
  tls: null,
  cluster: { redisUrl: settings.redisUrl, prefix: settings.prefix },
  heartbeatIntervalMs: settings.heartbeatIntervalMs,
});
process.stdout.write(`listening ${broker.port}\n`);
