import { operationContext } from '../../http/access-guard.js';
import { NoContent } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import {
  CreatedScrapeTokenSchema,
  CreateScrapeTokenBody,
  ScrapeTokenListSchema,
  ScrapeTokenParams,
} from './scrape-tokens.schemas.js';

const tags = ['metrics'];
const read = { access: { kind: 'read', scope: 'system_config' } } as const;
const write = { access: { kind: 'write', scope: 'system_config' } } as const;

/** Scrape tokens for `GET /metrics` (docs/metrics.md#scrape-tokens). */
export async function scrapeTokensRoutes(app: App): Promise<void> {
  const { scrapeTokens } = app.services;

  app.get(
    '/api/v1/scrape-tokens',
    {
      config: read,
      schema: {
        tags,
        summary: 'Scrape tokens (never their secrets)',
        response: { 200: ScrapeTokenListSchema },
      },
    },
    () => scrapeTokens.list(),
  );

  app.post(
    '/api/v1/scrape-tokens',
    {
      config: write,
      schema: {
        tags,
        summary: 'Create a scrape token; its secret is in this answer only',
        body: CreateScrapeTokenBody,
        response: { 201: CreatedScrapeTokenSchema },
      },
    },
    async (request, reply) => {
      const created = await scrapeTokens.create(operationContext(request), request.body);
      return reply.status(201).send(created);
    },
  );

  app.delete(
    '/api/v1/scrape-tokens/:id',
    {
      config: write,
      schema: {
        tags,
        summary: 'Delete a scrape token: refused from the next scrape on, on every instance',
        params: ScrapeTokenParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await scrapeTokens.remove(operationContext(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}
