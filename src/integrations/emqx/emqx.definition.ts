import { Type } from 'typebox';
import { type BrokerKindDefinition, clearableSecret, getPath, isUrl, requireValues } from '../broker-kind.js';
import {
  HOOK_SECRET_PATHS,
  HookAccessSchema,
  openHookAccess,
  validateHookAccess,
} from '../hooks/hook-settings.js';
import { createEmqxIntegration, type EmqxSettings } from './emqx-integration.js';

/** How long a call to EMQX's management API may take. */
const EMQX_TIMEOUT_MS = 5_000;

export const EmqxConfigSchema = Type.Object(
  {
    hook: Type.Optional(HookAccessSchema),
    managementUrl: Type.Optional(
      Type.String({
        pattern: '^https?://',
        maxLength: 500,
        description: 'EMQX REST API base, e.g. http://emqx:18083',
      }),
    ),
    apiKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'EMQX API key' })),
    apiSecret: Type.Optional(clearableSecret('EMQX API secret')),
    authnAcl: Type.Optional(
      Type.Boolean({ default: false, description: 'also return publish rules as `acl` in the authn reply' }),
    ),
    unknownUser: Type.Optional(
      Type.Enum(['deny', 'ignore'], {
        type: 'string',
        default: 'deny',
        description: 'answer for users Warden does not know: deny, or ignore (next authenticator/source)',
      }),
    ),
  },
  { additionalProperties: false, title: 'EMQX 5 (HTTP hooks)', 'x-broker-kind': 'emqx' },
);

/** EMQX 5 through its HTTP authn/authz hooks, and its management API for purges and kicks (docs/brokers.md). */
export const emqxDefinition: BrokerKindDefinition<EmqxSettings, typeof EmqxConfigSchema> = {
  kind: 'emqx',
  schema: EmqxConfigSchema,
  secretPaths: ['apiSecret', ...HOOK_SECRET_PATHS],
  validate(config, input) {
    const errors = validateHookAccess(config, input);
    if (config.managementUrl !== undefined) {
      if (!isUrl(config.managementUrl)) {
        errors.push({ pointer: '/config/managementUrl', message: 'must be a URL like http://emqx:18083' });
      }
      errors.push(...requireValues(config, ['apiKey', 'apiSecret'], 'is required with managementUrl'));
    }
    return errors;
  },
  open(config, secret) {
    const apiSecret = secret('apiSecret');
    const url = getPath(config, 'managementUrl');
    return {
      hook: openHookAccess(config, secret),
      authnAcl: config.authnAcl === true,
      unknownUser: config.unknownUser === 'ignore' ? 'ignore' : 'deny',
      management:
        typeof url === 'string' && apiSecret !== null
          ? { url, apiKey: String(config.apiKey ?? ''), apiSecret, timeoutMs: EMQX_TIMEOUT_MS }
          : null,
    };
  },
  create(settings, deps) {
    return createEmqxIntegration({
      name: deps.name,
      duties: deps.duties,
      settings,
      services: deps.hookServices,
      directory: deps.directory,
      context: deps.context,
    });
  },
};
