import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app.js';
import { ensureRootUser, type RootBootstrap } from './bootstrap.js';
import { type Config, ConfigError } from './config/config.js';
import { loggerOptions } from './core/logging/logger.js';
import { type EmbeddedBroker, startEmbeddedBroker } from './integrations/aedes/embedded-broker.js';
import { openRuntime, type Runtime } from './runtime.js';
import { startServices } from './services.js';

/** The built console, next to `dist/` (or `src/` when run with tsx). */
export const DEFAULT_WEB_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'web',
  'dist',
);

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
  readonly root: RootBootstrap;
  readonly url: string;
  /** The embedded MQTT broker, or null when WARDEN_MQTT_PORT and WARDEN_MQTTS_PORT are both 0. */
  readonly broker: EmbeddedBroker | null;
  /** Graceful stop: stop accepting, finish in-flight requests, close the database. */
  close(): Promise<void>;
}

export async function startServer(
  config: Config,
  options: { webRoot?: string } = {},
): Promise<RunningServer> {
  const logger = pino(loggerOptions(config.logLevel));
  const runtime = await openRuntime(config, {
    onListenerError: (error, event) => logger.error({ err: error, event }, 'domain event listener failed'),
  });
  const root = await ensureRootUser(runtime.services, config.adminPassword);
  const app = await buildApp({
    services: runtime.services,
    logger,
    trustProxy: config.trustProxy,
    metricsAllowFrom: config.metricsAllowFrom,
    webRoot: options.webRoot ?? DEFAULT_WEB_ROOT,
  });
  // Followers, live enforcement and the broker integrations run before the API listens, so the first request
  // (a broker hook, a change) finds them.
  const stopServices = await startServices(runtime.services, {
    logger: logger.child({ component: 'brokers' }),
  });
  try {
    await app.listen({ port: config.httpPort, host: config.httpHost });
  } catch (error) {
    await stopServices();
    await app.close();
    await runtime.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `WARDEN_HTTP_PORT: port ${config.httpPort} is already in use; set WARDEN_HTTP_PORT to a free port`,
      );
    }
    throw error;
  }
  let broker: EmbeddedBroker | null = null;
  if (config.mqttPort !== 0 || config.mqttsPort !== 0) {
    const { mqttsPort, mqttTlsCertPath: certPath, mqttTlsKeyPath: keyPath } = config;
    const start = (port: number | null): Promise<EmbeddedBroker> =>
      startEmbeddedBroker({
        services: runtime.services,
        logger: logger.child({ component: 'mqtt' }),
        host: config.mqttHost,
        port,
        tls: mqttsPort !== 0 && certPath && keyPath ? { port: mqttsPort, certPath, keyPath } : null,
        maxPacketBytes: config.mqttMaxPacketBytes,
        cluster: config.redisUrl ? { redisUrl: config.redisUrl, prefix: config.redisPrefix } : null,
      });
    try {
      try {
        broker = await start(config.mqttPort === 0 ? null : config.mqttPort);
      } catch (error) {
        // A first start on a host that already runs a broker on 1883 should still come up: an explicitly
        // configured port stays a hard error, the unconfigured default moves to a free port, loudly.
        if (
          !(config.mqttPortIsDefault && error instanceof ConfigError && error.variable === 'WARDEN_MQTT_PORT')
        )
          throw error;
        broker = await start(0);
        logger.warn(
          `port ${config.mqttPort} is taken (another MQTT broker?); the embedded broker listens on ${broker.url} instead. Set WARDEN_MQTT_PORT to choose.`,
        );
      }
    } catch (error) {
      await stopServices();
      await app.close();
      await runtime.close();
      throw error;
    }
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? 'localhost' : config.httpHost;
  return {
    app,
    runtime,
    root,
    url: `http://${host}:${port}`,
    broker,
    close: async () => {
      // MQTT first: its clients are disconnected before the services they depend on go away.
      await broker?.close();
      await stopServices();
      await app.close();
      await runtime.close();
    },
  };
}
