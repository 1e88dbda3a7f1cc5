import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';

const inCi = process.env.CI === 'true';
const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** A Redis client for test set-up and checks: fails at once instead of retrying. */
export function redisClient(url: string): Redis {
  return new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
}

/**
 * The Redis URL for tests (`TEST_REDIS_URL`, default redis://127.0.0.1:6379) once it answered a PING.
 * Unreachable on a laptop: the Redis suites skip with a loud warning. Unreachable in CI (`CI=true`, where .ci/run
 * starts Redis): a hard failure, because a skipped suite would hide broken clustering.
 */
export async function redisUrl(): Promise<string | null> {
  const url = process.env.TEST_REDIS_URL || DEFAULT_URL;
  const client = redisClient(url);
  let cause: Error | undefined;
  client.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    await client.connect();
    await client.ping();
    return url;
  } catch (error) {
    const reason = `${url} does not answer (${(cause ?? (error as Error)).message})`;
    if (inCi) throw new Error(`Redis is unreachable in CI: ${reason}; the Redis suites must run there`);
    console.warn(
      `\n*** ${reason}: the Redis suites are SKIPPED (start redis-server or set TEST_REDIS_URL) ***\n`,
    );
    return null;
  } finally {
    client.disconnect();
  }
}

/** A prefix (WARDEN_REDIS_PREFIX) no other test run uses. */
export function uniquePrefix(): string {
  return `warden-test-${randomBytes(6).toString('hex')}`;
}

/** Deletes every key under `<prefix>:`. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = redisClient(url);
  await client.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** Names of the connections Redis currently holds whose name starts with `<prefix>:` (CLIENT SETNAME). */
export async function connectionNames(url: string, prefix: string): Promise<string[]> {
  const client = redisClient(url);
  await client.connect();
  try {
    const list = (await client.client('LIST')) as string;
    return list
      .split('\n')
      .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
      .filter((name) => name.startsWith(`${prefix}:`))
      .sort();
  } finally {
    client.disconnect();
  }
}

export interface TcpProxy {
  /** The target URL with the proxy's address: Redis through the proxy. */
  readonly url: string;
  /** Drops every connection and refuses new ones: Redis has gone away, as far as its clients can tell. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy in front of Redis, to take Redis away from one broker and give it back. */
export async function tcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const upstream = net.connect(Number(targetPort || 6379), hostname);
    for (const [a, b] of [
      [socket, upstream],
      [upstream, socket],
    ] as const) {
      sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  const listen = (port: number): Promise<number> =>
    new Promise((resolve) =>
      server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
    );
  const port = await listen(0);
  const url = new URL(target);
  url.host = `127.0.0.1:${port}`;
  const cut = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    url: url.href,
    cut,
    restore: async () => {
      await listen(port);
    },
    close: async () => {
      if (server.listening) await cut();
    },
  };
}
