import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app.js';
import { ensureRootUser, type RootBootstrap } from './bootstrap.js';
import type { Config } from './config/config.js';
import { loggerOptions } from './core/logging/logger.js';
import { openRuntime, type Runtime } from './runtime.js';

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
    webRoot: options.webRoot ?? DEFAULT_WEB_ROOT,
  });
  try {
    await app.listen({ port: config.httpPort, host: config.httpHost });
  } catch (error) {
    await app.close();
    await runtime.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `WARDEN_HTTP_PORT: port ${config.httpPort} is already in use; set WARDEN_HTTP_PORT to a free port`,
      );
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? 'localhost' : config.httpHost;
  return {
    app,
    runtime,
    root,
    url: `http://${host}:${port}`,
    close: async () => {
      await app.close();
      await runtime.close();
    },
  };
}
