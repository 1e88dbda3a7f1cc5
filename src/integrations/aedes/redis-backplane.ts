import aedesPersistenceRedis, { type AedesPersistenceRedis } from 'aedes-persistence-redis';
import { type Command, Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import type { Logger } from 'pino';
import { ConfigError } from '../../config/config.js';

/** Where the embedded brokers of several Warden instances meet. */
export interface BrokerClusterOptions {
  /** `WARDEN_REDIS_URL`: `redis://…` or `rediss://…`. */
  readonly redisUrl: string;
  /**
   * `WARDEN_REDIS_PREFIX`: every key is `<prefix>:…` and every pub/sub channel `<prefix>/…`, so that deployments
   * (or tests) sharing one Redis never see each other. Letters, digits, `_`, `.`, `:`, `-`.
   */
  readonly prefix: string;
  /** Overrides {@link COMMAND_TIMEOUT_MS} (tests). */
  readonly commandTimeoutMs?: number;
}

/** The two things aedes takes to form one broker with the others, and the connections behind them. */
export interface RedisBackplane {
  /** mqemitter-redis: every message published on any instance reaches the subscribers of every instance. */
  readonly mq: object;
  /** aedes-persistence-redis: subscriptions, retained messages, wills, QoS 1/2 queues and sessions. */
  readonly persistence: object;
  /** Ends the Redis connections at once, also while Redis is unreachable (call after the broker closed). */
  close(): void;
}

/**
 * How long Warden waits for Redis when it starts (connecting, authenticating, the ready check) before it gives
 * up. ioredis' own connect timeout covers only the TCP handshake.
 */
const START_TIMEOUT_MS = 10_000;
/**
 * Every Redis command gets an answer or an error within this time, also while the connection is down and the
 * command waits in ioredis' offline queue: a broker whose Redis went away answers its clients with errors instead
 * of holding them, and closing the broker does not wait for Redis to come back.
 */
const COMMAND_TIMEOUT_MS = 5_000;
/** After the start, lost connections are retried for as long as it takes: 0.2 s, 0.4 s, … then every 2 s. */
const retryDelay = (attempt: number): number => Math.min(attempt * 200, 2_000);

/** What aedes' own in-memory emitter is built with (node_modules/aedes/aedes.js). */
const EMITTER_OPTIONS = { concurrency: 100, matchEmptyLevels: true } as const;

type MQEmitterRedisPrefix = new (
  prefix: string,
  options: typeof EMITTER_OPTIONS & { subConn: Redis; pubConn: Redis },
) => {
  state: { on(event: 'error', listener: (error: Error) => void): void };
  /** The Redis channel or pattern a (prefixed) MQTT filter is subscribed as. */
  _subTopic(topic: string): string;
};

/**
 * mqemitter-redis exports the emitter that prefixes channels, but its type declarations omit it. Redis pub/sub
 * channels are global to the server (neither ioredis' key prefix nor the database number separates them), so the
 * prefix has to be on the channel.
 */
const { MQEmitterRedisPrefix } = mqemitterRedis as unknown as { MQEmitterRedisPrefix: MQEmitterRedisPrefix };

/**
 * mqemitter-redis subscribes a filter with wildcards as a Redis pattern by replacing `+` and `#` with `*`
 * (`_subTopic` in node_modules/mqemitter-redis/mqemitter-redis.js), leaving Redis' own pattern syntax in the
 * rest of the filter active: `a/[x]/+` became a pattern matching `a/x/…` but not `a/[x]/…`, and since every
 * message goes through Redis, such a subscription received nothing, not even from its own instance. Escaping
 * `\`, `*`, `?`, `[` and `]` first makes the pattern match exactly what the filter says; the local matcher then
 * decides as before. Filters without wildcards are subscribed as plain channel names, unaffected.
 */
class Emitter extends MQEmitterRedisPrefix {
  override _subTopic(topic: string): string {
    // A filter without wildcards is subscribed as a channel name, where nothing is special.
    const pattern = /[+#]/.test(topic) ? topic.replace(/[\\*?[\]]/g, '\\$&') : topic;
    return super._subTopic(pattern);
  }
}

/**
 * An ioredis connection whose commands never become unhandled rejections. aedes-persistence-redis sends some
 * commands without awaiting them (removing a will's list entry, dropping a stale queue entry): while Redis is
 * unreachable their failure would otherwise end the process. Callers that await a command still see its error.
 */
class Connection extends Redis {
  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): Promise<unknown> {
    const result = super.sendCommand(command, stream) as Promise<unknown>;
    result.catch(() => {});
    return result;
  }
}

/** The URL without its user and password, for messages and logs. */
export function redactRedisUrl(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * Connects to Redis (three connections: publishing, subscribing, storing) and builds aedes' emitter and
 * persistence on them. A Redis that cannot be reached, refuses the credentials or does not answer in time fails
 * this with a ConfigError naming WARDEN_REDIS_URL, and nothing stays connected. Once started, a lost connection
 * is logged, retried until Redis is back, and never ends the process.
 */
export async function connectRedisBackplane(
  options: BrokerClusterOptions & { readonly logger: Logger },
): Promise<RedisBackplane> {
  const { logger, prefix } = options;
  const where = redactRedisUrl(options.redisUrl);
  let started = false;
  let closing = false;
  const open = (role: 'publish' | 'subscribe' | 'store', extra: { keyPrefix?: string } = {}): Connection => {
    const connection = new Connection(options.redisUrl, {
      ...extra,
      lazyConnect: true,
      // Shows in CLIENT LIST: which deployment and which part of the broker holds a connection.
      connectionName: `${prefix}:mqtt-${role}`,
      commandTimeout: options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
      // At start a failure is reported, not retried: the operator gets the error at once.
      retryStrategy: (attempt) => (started && !closing ? retryDelay(attempt) : null),
      // mqemitter-redis turns this on for the connections it opens itself: publishes are batched per tick.
      enableAutoPipelining: role === 'publish',
    });
    let up = false;
    let lastError: Error | undefined;
    connection.on('error', (error: Error) => {
      lastError = error;
      if (started && !closing)
        logger.debug({ err: error, redis: where, role }, 'mqtt: Redis connection error');
    });
    connection.on('ready', () => {
      if (started && !up) logger.info({ redis: where, role }, 'mqtt: Redis connection restored');
      up = true;
    });
    connection.on('close', () => {
      if (up && started && !closing)
        logger.error(
          { err: lastError, redis: where, role },
          'mqtt: Redis connection lost (WARDEN_REDIS_URL); retrying. Until it is back, messages do not reach other instances and session state cannot be stored',
        );
      up = false;
    });
    return connection;
  };
  const publisher = open('publish');
  const subscriber = open('subscribe');
  const store = open('store', { keyPrefix: `${prefix}:` });
  const connections = [publisher, subscriber, store];
  const disconnect = (): void => {
    closing = true;
    for (const connection of connections) connection.disconnect();
  };

  let timer: NodeJS.Timeout | undefined;
  try {
    const lastErrors = new Map<Connection, Error>();
    for (const connection of connections)
      connection.on('error', (error: Error) => lastErrors.set(connection, error));
    await Promise.race([
      Promise.all(
        connections.map((connection) =>
          connection.connect().catch((error: Error) => {
            throw lastErrors.get(connection) ?? error;
          }),
        ),
      ),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${START_TIMEOUT_MS / 1000} s`)),
          START_TIMEOUT_MS,
        );
      }),
    ]);
    // ioredis reports some failures without failing the connection: a database number Redis does not have
    // (`/99`) leaves it on database 0. Whatever went wrong while starting stops the start.
    const [failure] = lastErrors.values();
    if (failure) throw failure;
  } catch (error) {
    disconnect();
    throw new ConfigError(
      'WARDEN_REDIS_URL',
      `cannot connect to Redis at ${where}: ${(error as Error).message}`,
    );
  } finally {
    clearTimeout(timer);
  }
  started = true;

  const mq = new Emitter(`${prefix}/`, {
    ...EMITTER_OPTIONS,
    subConn: subscriber,
    pubConn: publisher,
  });
  // mqemitter-redis re-emits its connections' errors here; an EventEmitter without a listener would throw them.
  // The connections' own listeners above log them already.
  mq.state.on('error', (error) => logger.debug({ err: error, redis: where }, 'mqtt: Redis emitter error'));
  const persistence = aedesPersistenceRedis({ conn: store });
  guardPersistence(persistence, logger);
  return { mq, persistence, close: disconnect };
}

/**
 * Two places where aedes assumes its persistence cannot fail, as the in-memory one cannot; with Redis away, each
 * would end the process:
 * - it pipes the retained messages of a SUBSCRIBE onward without an error listener
 *   (node_modules/aedes/lib/handlers/subscribe.js): a failed read would be an uncaught 'error' event. The
 *   subscription then simply gets no retained messages;
 * - on CONNECT it chains `delWill(…).finally(…)` and drops the chain (node_modules/aedes/lib/handlers/connect.js):
 *   a failed removal of the client's previous will would be an unhandled rejection. Removing it is housekeeping;
 *   the CONNECT goes on (and storing the new will reports its own failure).
 */
function guardPersistence(persistence: AedesPersistenceRedis, logger: Logger): void {
  const retained = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns) => {
    const stream = retained(patterns);
    stream.on('error', (error: Error) =>
      logger.warn(
        { err: error },
        'mqtt: retained messages could not be read from Redis; none sent for this SUBSCRIBE',
      ),
    );
    return stream;
  };
  const delWill = persistence.delWill.bind(persistence);
  persistence.delWill = (client) =>
    delWill(client).catch((error: unknown) => {
      logger.warn({ err: error, clientId: client.id }, 'mqtt: a will could not be removed from Redis');
      return null;
    });
}
