import { operationContext } from '../../http/access-guard.js';
import { NoContent } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import {
  BrokerListSchema,
  BrokerParams,
  BrokerSchema,
  BrokerStatusSchema,
  CreateBrokerBody,
  SyncQuery,
  SyncReportSchema,
  UpdateBrokerBody,
} from './brokers.schemas.js';

const tags = ['brokers'];
/** Broker connections are settings: reading and changing them needs system_config (docs/permissions.md). */
const read = { access: { kind: 'read', scope: 'system_config' } } as const;
const write = { access: { kind: 'write', scope: 'system_config' } } as const;

export async function brokersRoutes(app: App): Promise<void> {
  const { brokers } = app.services;

  app.get(
    '/api/v1/brokers',
    {
      config: read,
      schema: { tags, summary: 'List broker integrations', response: { 200: BrokerListSchema } },
    },
    () => brokers.list(),
  );

  app.post(
    '/api/v1/brokers',
    {
      config: write,
      schema: {
        tags,
        summary: 'Add a broker integration (started at once when enabled)',
        body: CreateBrokerBody,
        response: { 201: BrokerSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await brokers.create(operationContext(request), request.body)),
  );

  app.get(
    '/api/v1/brokers/:name',
    {
      config: read,
      schema: {
        tags,
        summary: 'Get a broker integration (secrets are never returned)',
        params: BrokerParams,
        response: { 200: BrokerSchema },
      },
    },
    (request) => brokers.get(request.params.name),
  );

  app.put(
    '/api/v1/brokers/:name',
    {
      config: write,
      schema: {
        tags,
        summary: 'Replace the settings (omitted secrets are kept); the integration restarts',
        params: BrokerParams,
        body: UpdateBrokerBody,
        response: { 200: BrokerSchema },
      },
    },
    (request) => brokers.update(operationContext(request), request.params.name, request.body),
  );

  app.delete(
    '/api/v1/brokers/:name',
    {
      config: write,
      schema: {
        tags,
        summary: 'Remove a broker integration (the broker keeps what was synced)',
        params: BrokerParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await brokers.remove(operationContext(request), request.params.name);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/brokers/:name/status',
    {
      config: read,
      schema: {
        tags,
        summary: 'Live status of a broker integration',
        params: BrokerParams,
        response: { 200: BrokerStatusSchema },
      },
    },
    (request) => brokers.status(request.params.name),
  );

  app.post(
    '/api/v1/brokers/:name/sync',
    {
      config: write,
      schema: {
        tags,
        summary: 'Full reconcile now (dryRun=true: only the diff); 502 broker.unreachable when it fails',
        params: BrokerParams,
        querystring: SyncQuery,
        response: { 200: SyncReportSchema },
      },
    },
    (request) =>
      brokers.sync(operationContext(request), request.params.name, { dryRun: request.query.dryRun ?? false }),
  );
}
