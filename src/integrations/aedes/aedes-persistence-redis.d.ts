/**
 * The part of aedes-persistence-redis (no type declarations of its own) that Warden uses: the factory, handed an
 * ioredis connection Warden owns (`conn`). The object it returns is passed to aedes as `persistence`; its methods
 * are the aedes-persistence interface (node_modules/aedes-persistence/types/index.d.ts), of which Warden wraps two.
 */
declare module 'aedes-persistence-redis' {
  import type { Readable } from 'node:stream';
  import type { Redis } from 'ioredis';

  namespace aedesPersistenceRedis {
    interface AedesPersistenceRedisOptions {
      /** The connection to use; without it the library opens its own from the other (ioredis) options. */
      readonly conn?: Redis;
      /** Most queued messages delivered to a persistent session on CONNECT (default 1000). */
      readonly maxSessionDelivery?: number;
    }

    interface AedesPersistenceRedis {
      /** The retained messages matching any of the filters (aedes calls it for each SUBSCRIBE). */
      createRetainedStreamCombi(patterns: string[]): Readable;
      /** Removes a client's stored will and answers it (or null). */
      delWill(client: { id: string; brokerId: string }): Promise<unknown>;
    }
  }

  function aedesPersistenceRedis(
    options?: aedesPersistenceRedis.AedesPersistenceRedisOptions,
  ): aedesPersistenceRedis.AedesPersistenceRedis;
  export = aedesPersistenceRedis;
}
