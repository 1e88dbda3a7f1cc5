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
        summary: 'Database reachable',
        response: { 200: Type.Object({ status: Type.String() }) },
      },
    },
    async () => {
      try {
        await sql`select 1`.execute(app.services.infra.db);
      } catch {
        throw coreError('server.unavailable', 'Database unreachable');
      }
      return { status: 'ready' };
    },
  );
}
