import { operationContext } from '../../http/access-guard.js';
import type { App } from '../../http/fastify-types.js';
import {
  PasswordPolicySchema,
  RequesterAddressSchema,
  SecuritySettingsInputSchema,
  SecuritySettingsSchema,
} from './settings.schemas.js';

const tags = ['settings'];

export async function settingsRoutes(app: App): Promise<void> {
  const { settings } = app.services;

  app.get(
    '/api/v1/settings/password-policy',
    {
      config: { access: { kind: 'login_step' } },
      schema: {
        tags,
        summary: 'The password policy (for inline validation)',
        response: { 200: PasswordPolicySchema },
      },
    },
    async () => (await settings.getSecurity()).passwordPolicy,
  );

  app.get(
    '/api/v1/settings/security',
    {
      config: { access: { kind: 'read', scope: 'system_config' } },
      schema: { tags, summary: 'Security settings', response: { 200: SecuritySettingsSchema } },
    },
    () => settings.getSecurity(),
  );

  app.get(
    '/api/v1/settings/requester-address',
    {
      config: { access: { kind: 'read', scope: 'system_config' } },
      schema: {
        tags,
        summary: 'The address this request came from, as `apiAllowFrom` sees it (trustProxy applied)',
        response: { 200: RequesterAddressSchema },
      },
    },
    (request) => ({ address: request.ip }),
  );

  app.put(
    '/api/v1/settings/security',
    {
      config: { access: { kind: 'write', scope: 'system_config' } },
      schema: {
        tags,
        summary: 'Replace the security settings',
        description: 'A document without `mqtt` (from clients older than that group) sets its default.',
        body: SecuritySettingsInputSchema,
        response: { 200: SecuritySettingsSchema },
      },
    },
    (request) => settings.putSecurity(operationContext(request), request.body),
  );
}
