import { Type } from 'typebox';
import type { BrokerKindDefinition } from '../broker-kind.js';
import {
  HOOK_SECRET_PATHS,
  HookAccessSchema,
  openHookAccess,
  validateHookAccess,
} from '../hooks/hook-settings.js';
import { createVernemqIntegration, type VernemqSettings } from './vernemq-integration.js';

export const VernemqConfigSchema = Type.Object(
  {
    hook: Type.Optional(HookAccessSchema),
    unknownUser: Type.Optional(
      Type.Enum(['deny', 'next'], {
        type: 'string',
        default: 'deny',
        description: 'answer for users Warden does not know: deny, or next (the next plugin)',
      }),
    ),
  },
  { additionalProperties: false, title: 'VerneMQ (webhooks)', 'x-broker-kind': 'vernemq' },
);

/** VerneMQ through its webhooks (docs/brokers.md). */
export const vernemqDefinition: BrokerKindDefinition<VernemqSettings, typeof VernemqConfigSchema> = {
  kind: 'vernemq',
  schema: VernemqConfigSchema,
  secretPaths: HOOK_SECRET_PATHS,
  validate: validateHookAccess,
  open(config, secret) {
    return {
      hook: openHookAccess(config, secret),
      unknownUser: config.unknownUser === 'next' ? 'next' : 'deny',
    };
  },
  create(settings, deps) {
    return createVernemqIntegration({
      name: deps.name,
      settings,
      services: deps.hookServices,
      context: deps.context,
    });
  },
};
