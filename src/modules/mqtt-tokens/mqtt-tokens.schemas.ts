import { type Static, Type } from 'typebox';
import { DEFAULT_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS, MIN_TOKEN_TTL_SECONDS } from './warden-token.js';

export const IssueMqttTokenBody = Type.Object(
  {
    ttlSeconds: Type.Optional(
      Type.Integer({
        minimum: MIN_TOKEN_TTL_SECONDS,
        maximum: MAX_TOKEN_TTL_SECONDS,
        default: DEFAULT_TOKEN_TTL_SECONDS,
        description:
          'How long the token is valid, in seconds; connections opened with it close when it expires',
      }),
    ),
  },
  { additionalProperties: false },
);
export type IssueMqttTokenInput = Static<typeof IssueMqttTokenBody>;

export const IssuedMqttTokenSchema = Type.Object({
  token: Type.String({
    description: 'The token (a JWT) to send as the MQTT password: shown this once, never stored',
  }),
  expiresAt: Type.String({ format: 'date-time', description: 'When the token stops being accepted' }),
  username: Type.String({ description: 'The user the token stands for (the MQTT username to send with it)' }),
});
export type IssuedMqttToken = Static<typeof IssuedMqttTokenSchema>;
