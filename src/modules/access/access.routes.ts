import { UsernameParams } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import {
  EffectiveAccessQuery,
  EffectiveAccessSchema,
  ExplainBody,
  ExplanationSchema,
} from './access.schemas.js';

const tags = ['access'];

export async function accessRoutes(app: App): Promise<void> {
  const { access } = app.services;

  app.post(
    '/api/v1/access/explain',
    {
      // Asking about someone else reveals their rules (and whether they exist): the directory's or the rules'
      // managers may; anyone may ask about themselves.
      config: {
        access: { kind: 'read', anyOf: ['user_management', 'asset_management'], unlessSelf: 'username' },
      },
      schema: {
        tags,
        summary: 'Explain an MQTT access decision for a user: the deciding rule, its role and expanded topic',
        description:
          'About another user this needs `user_management` or `asset_management`; anyone may ask about themselves.',
        body: ExplainBody,
        response: { 200: ExplanationSchema },
      },
    },
    (request) => access.explain(request.body),
  );

  app.get(
    '/api/v1/users/:username/effective-access',
    {
      // The merged rules describe a user, so they belong to the user directory's scope.
      config: { access: { kind: 'read', scope: 'user_management' } },
      schema: {
        tags,
        summary: "A user's merged MQTT rules in evaluation order, placeholders expanded",
        params: UsernameParams,
        querystring: EffectiveAccessQuery,
        response: { 200: EffectiveAccessSchema },
      },
    },
    (request) => access.effectiveAccess(request.params.username, request.query.clientid ?? null),
  );
}
