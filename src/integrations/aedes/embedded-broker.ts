import type { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { ConfigError } from '../../config/config.js';
import type { Services } from '../../services.js';
import { createAccessHooks } from './aedes-access-hooks.js';

export interface EmbeddedBrokerOptions {
  readonly services: Services;
  readonly logger: Logger;
  readonly host: string;
  /** Plain MQTT port (0 = any free port), or null for no plain listener. */
  readonly port: number | null;
  /** The TLS listener (port 0 = any free port), or null for none. */
  readonly tls: { readonly port: number; readonly certPath: string; readonly keyPath: string } | null;
}

export interface EmbeddedBroker {
  /** `mqtt://host:port`, or null without a plain listener. */
  readonly url: string | null;
  /** `mqtts://host:port`, or null without a TLS listener. */
  readonly tlsUrl: string | null;
  /** The bound ports (useful when 0 asked for a free one). */
  readonly port: number | null;
  readonly tlsPort: number | null;
  /** Stops accepting, disconnects every client and waits until the listeners are closed. */
  close(): Promise<void>;
}

function readPem(path: string, variable: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (error) {
    throw new ConfigError(variable, `cannot read ${path}: ${(error as Error).message}`);
  }
}

async function listen(server: net.Server, port: number, host: string, variable: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError(
              variable,
              `port ${port} is already in use; set ${variable} to a free port (0 turns the listener off)`,
            )
          : error.code === 'EACCES'
            ? new ConfigError(variable, `no permission to listen on port ${port}`)
            : error,
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts the embedded MQTT broker (aedes: MQTT 3.1 and 3.1.1 only, no MQTT 5, no shared subscriptions) with
 * Warden's authentication and access rules, on a plain and/or a TLS listener. A taken port is a ConfigError
 * naming its variable; nothing is left listening when starting fails.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { logger } = options;
  const hooks = createAccessHooks({ services: options.services, logger });
  const tlsOptions = options.tls
    ? {
        cert: readPem(options.tls.certPath, 'WARDEN_MQTT_TLS_CERT'),
        key: readPem(options.tls.keyPath, 'WARDEN_MQTT_TLS_KEY'),
      }
    : null;
  const broker = await Aedes.createBroker({
    authenticate: hooks.authenticate,
    authorizePublish: hooks.authorizePublish,
    authorizeSubscribe: hooks.authorizeSubscribe,
    authorizeForward: hooks.authorizeForward,
  });
  hooks.attach(broker);
  // Malformed packets and refused publishes end one connection; they must never reach the process.
  broker.on('clientError', (client, error) =>
    logger.debug({ clientId: client.id, err: error }, 'mqtt: client error'),
  );
  broker.on('connectionError', (_client, error) => logger.debug({ err: error }, 'mqtt: connection error'));
  // aedes emits 'error' for persistence failures (untyped); an EventEmitter without a listener would throw it.
  const emitter: EventEmitter = broker;
  emitter.on('error', (error: Error) => logger.error({ err: error }, 'mqtt: broker error'));

  const servers: net.Server[] = [];
  const stop = async (): Promise<void> => {
    const closing = servers.map(closeServer);
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await Promise.all(closing);
  };
  try {
    let port: number | null = null;
    let tlsPort: number | null = null;
    if (options.port !== null) {
      const server = net.createServer(broker.handle);
      servers.push(server);
      port = await listen(server, options.port, options.host, 'WARDEN_MQTT_PORT');
    }
    if (options.tls && tlsOptions) {
      const server = tls.createServer(tlsOptions, broker.handle);
      // A failed TLS handshake is the client's problem, not a broker error.
      server.on('tlsClientError', (error) => logger.debug({ err: error }, 'mqtt: TLS handshake failed'));
      servers.push(server);
      tlsPort = await listen(server, options.tls.port, options.host, 'WARDEN_MQTTS_PORT');
    }
    const host = displayHost(options.host);
    return {
      url: port === null ? null : `mqtt://${host}:${port}`,
      tlsUrl: tlsPort === null ? null : `mqtts://${host}:${tlsPort}`,
      port,
      tlsPort,
      close: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
