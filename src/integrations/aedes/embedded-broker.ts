import type { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type Client } from 'aedes';
import type { Logger } from 'pino';
import { ConfigError, DEFAULT_MQTT_MAX_PACKET_BYTES } from '../../config/config.js';
import { withMqttRegistration } from '../../modules/registry/mqtt-registration.js';
import type { Services } from '../../services.js';
import { createAccessHooks, WillRefused } from './aedes-access-hooks.js';
import {
  guardPackets,
  PROTOCOL_REFUSALS,
  type ProtocolRefusal,
  ProtocolViolation,
} from './aedes-packet-guard.js';
import { clientCertificateOptions } from './client-certificates.js';
import { type BrokerClusterOptions, connectRedisBackplane, type RedisBackplane } from './redis-backplane.js';

export type { ProtocolRefusal } from './aedes-packet-guard.js';
export type { BrokerClusterOptions } from './redis-backplane.js';

/**
 * Time a new connection has to deliver its whole CONNECT (and, on the TLS listener, before that to complete the
 * TLS handshake). A CONNECT is sent right after the connection opens and is small: 10 s is generous even on a
 * cellular link, and bounds how long a peer that never authenticates holds a socket (aedes' default is 30 s,
 * Node's TLS handshake default 120 s).
 */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * How long closing a clustered broker waits, once its clients are closed, for its emitter to say goodbye to Redis
 * before the connections are simply ended (the goodbye never comes while Redis is unreachable).
 */
const CLUSTER_CLOSE_GRACE_MS = 1_000;

/**
 * Connections the kernel holds for the broker until it accepts them. Node's default (511) is exceeded by a fleet
 * reconnecting after an outage while the broker is busy with the first CONNECTs, and then connections are
 * dropped and reset; the kernel caps the value at `net.core.somaxconn` (4096 on current Linux).
 */
const LISTEN_BACKLOG = 4096;

/** The error aedes' own CONNECT timer raises (node_modules/aedes/lib/client.js); counted as `connect_timeout`. */
const AEDES_CONNECT_TIMEOUT = 'connect did not arrive in time';

export interface EmbeddedBrokerOptions {
  readonly services: Services;
  readonly logger: Logger;
  readonly host: string;
  /** Plain MQTT port (0 = any free port), or null for no plain listener. */
  readonly port: number | null;
  /** The TLS listener (port 0 = any free port), or null for none. */
  readonly tls: { readonly port: number; readonly certPath: string; readonly keyPath: string } | null;
  /** Largest packet accepted after CONNECT, fixed header included (`WARDEN_MQTT_MAX_PACKET_BYTES`). */
  readonly maxPacketBytes?: number;
  /** Overrides {@link CONNECT_TIMEOUT_MS} (tests). */
  readonly connectTimeoutMs?: number;
  /**
   * `WARDEN_REDIS_URL` and `WARDEN_REDIS_PREFIX`: the brokers of all instances configured alike form one broker
   * (docs/mqtt.md). Null or omitted: this broker stands alone, with aedes' in-memory persistence.
   */
  readonly cluster?: BrokerClusterOptions | null;
  /**
   * Overrides aedes' 60 s heartbeat (tests): how often a clustered broker tells the others it is alive; wills of
   * an instance silent for three heartbeats are published by the others.
   */
  readonly heartbeatIntervalMs?: number;
}

export interface EmbeddedBroker {
  /** `mqtt://host:port`, or null without a plain listener. */
  readonly url: string | null;
  /** `mqtts://host:port`, or null without a TLS listener. */
  readonly tlsUrl: string | null;
  /** The bound ports (useful when 0 asked for a free one). */
  readonly port: number | null;
  readonly tlsPort: number | null;
  /**
   * Connections the broker closed on its own since it started, by reason: a packet over the size limit, a
   * malformed packet, ill-formed UTF-8 or U+0000 in a string, no complete CONNECT in time.
   */
  protocolRefusals(): Readonly<Record<ProtocolRefusal, number>>;
  /**
   * PUBLISH packets the access rules refused since the broker started, whatever `mqtt.denyAction` did with them
   * (acknowledged and dropped, or the connection closed); refused wills are not counted.
   */
  deniedPublishes(): number;
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
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
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

/**
 * Closes aedes: its clients first, then its emitter. A clustered emitter says goodbye to Redis and waits for the
 * answer, which never comes while Redis is unreachable: once the clients are closed, it gets a short grace, then
 * the Redis connections are ended anyway, so that nothing keeps the process alive.
 */
async function closeBroker(broker: Aedes, backplane: RedisBackplane | null): Promise<void> {
  const closed = new Promise<void>((resolve) => broker.close(() => resolve()));
  if (backplane) {
    const clientsClosed = new Promise<void>((resolve) => broker.once('closed', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const grace = clientsClosed.then(
      () => new Promise<void>((resolve) => (timer = setTimeout(resolve, CLUSTER_CLOSE_GRACE_MS))),
    );
    await Promise.race([closed, grace]);
    clearTimeout(timer);
    backplane.close();
  } else {
    await closed;
  }
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
  const hooks = withMqttRegistration(createAccessHooks({ services: options.services, logger }), {
    services: options.services,
    logger,
  });
  const tlsOptions = options.tls
    ? {
        cert: readPem(options.tls.certPath, 'WARDEN_MQTT_TLS_CERT'),
        key: readPem(options.tls.keyPath, 'WARDEN_MQTT_TLS_KEY'),
        // Client certificates issued by Warden's CA authenticate their user (docs/certificates.md).
        ...clientCertificateOptions(await options.services.certificates.caCertificatePem()),
      }
    : null;
  const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MQTT_MAX_PACKET_BYTES;
  const connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const backplane: RedisBackplane | null = options.cluster
    ? await connectRedisBackplane({ ...options.cluster, logger })
    : null;
  let broker: Aedes;
  try {
    broker = await Aedes.createBroker({
      preConnect: hooks.preConnect,
      authenticate: hooks.authenticate,
      authorizePublish: hooks.authorizePublish,
      authorizeSubscribe: hooks.authorizeSubscribe,
      authorizeForward: hooks.authorizeForward,
      // aedes starts this timer when the connection opens and stops it once a whole CONNECT packet has been
      // parsed; when it fires, the connection is closed. Authentication itself is bounded by the password
      // hasher's queue.
      connectTimeout: connectTimeoutMs,
      ...(backplane ? { mq: backplane.mq, persistence: backplane.persistence } : {}),
      ...(options.heartbeatIntervalMs ? { heartbeatInterval: options.heartbeatIntervalMs } : {}),
    });
  } catch (error) {
    backplane?.close();
    throw error;
  }
  hooks.attach(broker);

  const refusals = Object.fromEntries(PROTOCOL_REFUSALS.map((reason) => [reason, 0])) as Record<
    ProtocolRefusal,
    number
  >;
  /**
   * Counts and logs a connection the broker closes on its own. Never logs packet content. An authenticated client
   * is logged at warn (a device sending packets over the limit or ill-formed topics needs its owner's attention);
   * an unauthenticated peer only at debug, so that anyone able to open a socket cannot flood the log.
   */
  const refused = (
    client: Client | null,
    refusal: ProtocolRefusal,
    detail: string,
    socket?: net.Socket,
  ): void => {
    refusals[refusal]++;
    const username = client ? hooks.usernameOf(client) : undefined;
    const conn = socket ?? client?.conn;
    const ip = conn && 'remoteAddress' in conn ? conn.remoteAddress : undefined;
    const fields = { refusal, detail, clientId: client?.id ?? undefined, username, ip };
    if (username !== undefined) logger.warn(fields, 'mqtt: connection closed for a protocol violation');
    else logger.debug(fields, 'mqtt: connection closed for a protocol violation');
  };
  const accept = (socket: net.Socket): void => {
    const client = broker.handle(socket);
    if (!guardPackets(client, { maxPacketBytes, onRefusal: refused })) {
      // An aedes or mqtt-packet upgrade changed the parser: refuse rather than run without the limits.
      logger.error('mqtt: cannot install the packet guard on this aedes version; connection refused');
      socket.destroy();
    }
  };

  // Malformed packets and refused publishes (with `mqtt.denyAction` = disconnect) end one connection; they must
  // never reach the process. A ProtocolViolation was counted and logged by `refused` already.
  broker.on('clientError', (client, error) => {
    if (!(error instanceof ProtocolViolation))
      logger.debug({ clientId: client.id, err: error }, 'mqtt: client error');
  });
  broker.on('connectionError', (client, error) => {
    if (error instanceof ProtocolViolation) return;
    if (error.message === AEDES_CONNECT_TIMEOUT) refused(client, 'connect_timeout', 'no CONNECT in time');
    else logger.debug({ err: error }, 'mqtt: connection error');
  });
  // aedes emits 'error' for persistence failures (untyped); an EventEmitter without a listener would throw it.
  // A will refused on behalf of a stopped instance was logged by the hooks already.
  const emitter: EventEmitter = broker;
  emitter.on('error', (error: Error) => {
    if (!(error instanceof WillRefused)) logger.error({ err: error }, 'mqtt: broker error');
  });

  const servers: net.Server[] = [];
  const stop = async (): Promise<void> => {
    const closing = servers.map(closeServer);
    await closeBroker(broker, backplane);
    await Promise.all(closing);
  };
  try {
    let port: number | null = null;
    let tlsPort: number | null = null;
    if (options.port !== null) {
      const server = net.createServer(accept);
      servers.push(server);
      port = await listen(server, options.port, options.host, 'WARDEN_MQTT_PORT');
    }
    if (options.tls && tlsOptions) {
      const server = tls.createServer({ ...tlsOptions, handshakeTimeout: connectTimeoutMs }, accept);
      // A failed TLS handshake is the client's problem, not a broker error. Node does not close the socket after a
      // handshake timeout: without destroy() a peer that never says hello would hold it forever.
      server.on('tlsClientError', (error: NodeJS.ErrnoException, socket) => {
        socket.destroy();
        if (error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT')
          refused(null, 'connect_timeout', 'no TLS handshake in time', socket);
        else logger.debug({ err: error }, 'mqtt: TLS handshake failed');
      });
      servers.push(server);
      tlsPort = await listen(server, options.tls.port, options.host, 'WARDEN_MQTTS_PORT');
    }
    const host = displayHost(options.host);
    return {
      url: port === null ? null : `mqtt://${host}:${port}`,
      tlsUrl: tlsPort === null ? null : `mqtts://${host}:${tlsPort}`,
      port,
      tlsPort,
      protocolRefusals: () => Object.freeze({ ...refusals }),
      deniedPublishes: hooks.deniedPublishes,
      close: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
