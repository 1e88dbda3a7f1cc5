import type { App } from '../../http/fastify-types.js';
import { selfRequest } from '../auth/self-request.js';
import { IssuedMqttTokenSchema, IssueMqttTokenBody } from './mqtt-tokens.schemas.js';

const tags = ['mqtt tokens'];

export async function mqttTokensRoutes(app: App): Promise<void> {
  const { mqttTokens } = app.services;

  app.post(
    '/api/v1/me/mqtt-token',
    {
      // Self-service for a signed-in user; refused for API keys (403 auth.session_required): a token would
      // carry the owner's full MQTT rights past the key's own reduced ones.
      config: { access: { kind: 'self' } },
      schema: {
        tags,
        summary:
          'A short-lived Warden MQTT token for oneself: a JWT to send as MQTT password (shown once, never stored)',
        body: IssueMqttTokenBody,
        response: { 200: IssuedMqttTokenSchema },
      },
    },
    (request) => mqttTokens.issueForSelf(selfRequest(request).ctx, request.body),
  );
}
