import { operationContext } from '../../http/access-guard.js';
import { NoContent } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import { ListMqttClientsQuery, MqttClientListSchema, MqttClientParams } from './mqtt-clients.schemas.js';

const tags = ['mqtt'];

export async function mqttClientsRoutes(app: App): Promise<void> {
  const { mqttConnections } = app.services;

  app.get(
    '/api/v1/mqtt/clients',
    {
      config: { access: { kind: 'read' } },
      schema: {
        tags,
        summary: 'Clients connected to the embedded MQTT broker',
        querystring: ListMqttClientsQuery,
        response: { 200: MqttClientListSchema },
      },
    },
    (request) => mqttConnections.list(request.query),
  );

  app.delete(
    '/api/v1/mqtt/clients/:clientId',
    {
      config: { access: { kind: 'write', scope: 'asset_management' } },
      schema: {
        tags,
        summary: 'Disconnect a client from the embedded broker (it may reconnect)',
        params: MqttClientParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await mqttConnections.disconnect(operationContext(request), request.params.clientId);
      return reply.status(204).send(null);
    },
  );
}
