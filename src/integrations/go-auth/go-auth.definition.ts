import { Type } from 'typebox';
import type { BrokerKindDefinition } from '../broker-kind.js';
import {
  HOOK_SECRET_PATHS,
  HookAccessSchema,
  openHookAccess,
  validateHookAccess,
} from '../hooks/hook-settings.js';
import {
  createGoAuthIntegration,
  GO_AUTH_RESPONSE_MODES,
  type GoAuthSettings,
} from './go-auth-integration.js';

export const GoAuthConfigSchema = Type.Object(
  {
    hook: Type.Optional(HookAccessSchema),
    responseMode: Type.Optional(
      Type.Enum(GO_AUTH_RESPONSE_MODES, {
        type: 'string',
        default: 'status',
        description: 'must equal auth_opt_http_response_mode',
      }),
    ),
  },
  { additionalProperties: false, title: 'mosquitto-go-auth (HTTP backend)', 'x-broker-kind': 'go-auth' },
);

/** Mosquitto with the mosquitto-go-auth plugin's HTTP backend (docs/brokers.md). */
export const goAuthDefinition: BrokerKindDefinition<GoAuthSettings, typeof GoAuthConfigSchema> = {
  kind: 'go-auth',
  schema: GoAuthConfigSchema,
  secretPaths: HOOK_SECRET_PATHS,
  validate: validateHookAccess,
  open(config, secret) {
    const mode = config.responseMode;
    return {
      hook: openHookAccess(config, secret),
      responseMode: mode === 'json' || mode === 'text' ? mode : 'status',
    };
  },
  create(settings, deps) {
    return createGoAuthIntegration({
      name: deps.name,
      settings,
      services: deps.hookServices,
      context: deps.context,
    });
  },
};
