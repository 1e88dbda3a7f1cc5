import { operationContext } from '../../http/access-guard.js';
import { NoContent } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import {
  ApiKeyListSchema,
  ApiKeyParams,
  ApiKeySchema,
  CreateApiKeyBody,
  CreatedApiKeySchema,
  ListApiKeysQuery,
  UpdateApiKeyBody,
} from './api-keys.schemas.js';

const tags = ['api keys'];
/** Reading keys needs `api_key_management` too: a list of keys tells who can reach the API with what rights. */
const read = { access: { kind: 'read', scope: 'api_key_management' } } as const;
const write = { access: { kind: 'write', scope: 'api_key_management' } } as const;

export async function apiKeysRoutes(app: App): Promise<void> {
  const { apiKeys } = app.services;

  app.get(
    '/api/v1/api-keys',
    {
      config: read,
      schema: {
        tags,
        summary: 'List API keys, newest first, optionally of one owner',
        querystring: ListApiKeysQuery,
        response: { 200: ApiKeyListSchema },
      },
    },
    (request) => apiKeys.list(request.query),
  );

  app.post(
    '/api/v1/api-keys',
    {
      config: write,
      schema: {
        tags,
        summary: 'Create an API key; the answer holds the key (`wdn_…`), shown only this once',
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKeySchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await apiKeys.create(operationContext(request), request.body)),
  );

  app.get(
    '/api/v1/api-keys/:id',
    {
      config: read,
      schema: { tags, summary: 'Get an API key', params: ApiKeyParams, response: { 200: ApiKeySchema } },
    },
    (request) => apiKeys.get(request.params.id),
  );

  app.patch(
    '/api/v1/api-keys/:id',
    {
      config: write,
      schema: {
        tags,
        summary: 'Change name, description, role, scopes, expiry or enabled (applies at the next request)',
        params: ApiKeyParams,
        body: UpdateApiKeyBody,
        response: { 200: ApiKeySchema },
      },
    },
    (request) => apiKeys.update(operationContext(request), request.params.id, request.body),
  );

  app.delete(
    '/api/v1/api-keys/:id',
    {
      config: write,
      schema: {
        tags,
        summary: 'Delete an API key (it stops at the next request)',
        params: ApiKeyParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await apiKeys.remove(operationContext(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}
