import { sql } from 'kysely';
import { Type } from 'typebox';
import { coreError } from '../core/errors/core-errors.js';
import type { App } from './fastify-types.js';

const public_ = { access: { kind: 'public' } } as const;

export async function healthRoutes(app: App): Promise<void> {
  app.get(
    '/healthz',
    {
      config: public_,
      schema: {
        tags: ['health'],
        summary: 'Process alive',
        response: { 200: Type.Object({ status: Type.String() }) },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: public_,
      schema: {
        tags: ['health'],
        summary: 'Ready for traffic: the database answers and the change feed is followed',
        description:
          'A load balancer sends requests to instances answering 200. 503 while the database is unreachable or ' +
          'this instance is cut off from the change feed (it then refuses MQTT logins it cannot vouch for).',
        response: {
          200: Type.Object({
            status: Type.String(),
            changeFeed: Type.Object({ following: Type.Boolean(), lastId: Type.Integer() }),
          }),
        },
      },
    },
    async () => {
      try {
        await sql`select 1`.execute(app.services.infra.db);
      } catch {
        throw coreError('server.unavailable', 'Database unreachable');
      }
      const feed = app.services.changes.status();
      if (!feed.healthy) throw coreError('server.unavailable', `Change feed not followed: ${feed.error}`);
      return { status: 'ready', changeFeed: { following: feed.following, lastId: feed.lastId } };
    },
  );
}
