import { operationContext } from '../../http/access-guard.js';
import { NoContent } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import {
  CreateSsoProviderBody,
  SsoPresetListSchema,
  SsoProviderListSchema,
  SsoProviderParams,
  SsoProviderSchema,
  SsoTestResultSchema,
  TestSsoProviderBody,
  UpdateSsoProviderBody,
} from './sso-providers.schemas.js';

const tags = ['sso'];
/** Reading needs `sso_management` too: a provider's settings say who can become what by signing in. */
const read = { access: { kind: 'read', scope: 'sso_management' } } as const;
/** Testing is a write: it makes Warden send requests to a URL the caller chooses. */
const write = { access: { kind: 'write', scope: 'sso_management' } } as const;

export async function ssoProvidersRoutes(app: App): Promise<void> {
  const { ssoProviderAdmin } = app.services;

  app.get(
    '/api/v1/sso/presets',
    {
      config: read,
      schema: {
        tags,
        summary:
          'The provider presets (Keycloak, Microsoft Entra ID, Google, any OpenID Connect) and what they fill in',
        response: { 200: SsoPresetListSchema },
      },
    },
    () => ssoProviderAdmin.presets(),
  );

  app.get(
    '/api/v1/sso/providers',
    {
      config: read,
      schema: {
        tags,
        summary: 'List the SSO providers, by name (client secrets are never answered)',
        response: { 200: SsoProviderListSchema },
      },
    },
    () => ssoProviderAdmin.list(),
  );

  app.post(
    '/api/v1/sso/providers',
    {
      config: write,
      schema: {
        tags,
        summary: 'Create an SSO provider; omitted fields come from its preset',
        body: CreateSsoProviderBody,
        response: { 201: SsoProviderSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await ssoProviderAdmin.create(operationContext(request), request.body)),
  );

  app.post(
    '/api/v1/sso/providers/test',
    {
      config: write,
      schema: {
        tags,
        summary:
          "Test an unsaved provider form by discovery; with a stored provider's name its secret stands in for an omitted one",
        body: TestSsoProviderBody,
        response: { 200: SsoTestResultSchema },
      },
    },
    (request) => ssoProviderAdmin.testDraft(request.body),
  );

  app.get(
    '/api/v1/sso/providers/:name',
    {
      config: read,
      schema: {
        tags,
        summary: 'Get an SSO provider',
        params: SsoProviderParams,
        response: { 200: SsoProviderSchema },
      },
    },
    (request) => ssoProviderAdmin.get(request.params.name),
  );

  app.put(
    '/api/v1/sso/providers/:name',
    {
      config: write,
      schema: {
        tags,
        summary:
          'Change the fields sent (a clientSecret omitted is kept, null removes it); disabling cannot lock out the last admin',
        params: SsoProviderParams,
        body: UpdateSsoProviderBody,
        response: { 200: SsoProviderSchema },
      },
    },
    (request) => ssoProviderAdmin.update(operationContext(request), request.params.name, request.body),
  );

  app.delete(
    '/api/v1/sso/providers/:name',
    {
      config: write,
      schema: {
        tags,
        summary: 'Delete an SSO provider no user signs in with',
        params: SsoProviderParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await ssoProviderAdmin.remove(operationContext(request), request.params.name);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/sso/providers/:name/test',
    {
      config: write,
      schema: {
        tags,
        summary:
          "Test a stored provider by discovery: 200 with ok true and its endpoints, or ok false and the provider's error",
        params: SsoProviderParams,
        response: { 200: SsoTestResultSchema },
      },
    },
    (request) => ssoProviderAdmin.test(request.params.name),
  );
}
