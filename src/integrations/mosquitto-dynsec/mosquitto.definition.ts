import { Type } from 'typebox';
import { type BrokerKindDefinition, getPath, isUrl, requireValues, writeOnlySecret } from '../broker-kind.js';
import { CLIENT_ID_BINDINGS } from './dynsec-model.js';
import { createMosquittoIntegration, type MosquittoConfig } from './mosquitto-integration.js';

export const MosquittoConfigSchema = Type.Object(
  {
    url: Type.String({
      pattern: '^mqtts?://',
      maxLength: 500,
      description: 'mqtt:// or mqtts:// listener of the broker',
    }),
    adminUsername: Type.String({ minLength: 1, maxLength: 100, description: 'the dynsec admin client' }),
    adminPassword: Type.Optional(writeOnlySecret("the dynsec admin's password (required on create)")),
    clientIdBinding: Type.Optional(
      Type.Enum(CLIENT_ID_BINDINGS, {
        type: 'string',
        default: 'none',
        description: '`none`: any client id; `username`: clients must use client id = username',
      }),
    ),
    timeoutMs: Type.Optional(
      Type.Integer({ minimum: 100, maximum: 60_000, default: 5_000, description: 'command timeout' }),
    ),
    rejectUnauthorized: Type.Optional(
      Type.Boolean({ default: true, description: 'verify the TLS certificate (mqtts)' }),
    ),
  },
  { additionalProperties: false, title: 'Mosquitto (dynamic security)', 'x-broker-kind': 'mosquitto' },
);

/** Mosquitto 2.x driven as the dynamic-security admin (docs/brokers.md). */
export const mosquittoDefinition: BrokerKindDefinition<MosquittoConfig, typeof MosquittoConfigSchema> = {
  kind: 'mosquitto',
  schema: MosquittoConfigSchema,
  secretPaths: ['adminPassword'],
  validate(config) {
    return [
      ...(isUrl(config.url)
        ? []
        : [{ pointer: '/config/url', message: 'must be a URL like mqtt://host:1883' }]),
      ...requireValues(config, ['adminPassword'], 'is required'),
    ];
  },
  open(config, secret) {
    return {
      url: String(config.url),
      adminUsername: String(config.adminUsername),
      adminPassword: secret('adminPassword') ?? '',
      clientIdBinding: getPath(config, 'clientIdBinding') === 'username' ? 'username' : 'none',
      timeoutMs: Number(config.timeoutMs),
      rejectUnauthorized: config.rejectUnauthorized !== false,
    };
  },
  create(config, deps) {
    return createMosquittoIntegration({
      id: deps.id,
      name: deps.name,
      config,
      directory: deps.directory,
      ledger: deps.ledger,
      context: deps.context,
    });
  },
};
