import { defineErrors } from '../../core/errors/app-error.js';

/** Error codes of Warden MQTT tokens (docs/mqtt-tokens.md). */
export const mqttTokenError = defineErrors({
  'mqtt_token.ttl_out_of_range': {
    status: 400,
    title: 'Token lifetime out of range',
    description:
      'A Warden MQTT token lives from 60 seconds to 1 hour (`ttlSeconds` 60–3600; the CLI: `--ttl 1m` to `1h`).',
  },
  'mqtt_token.user_inactive': {
    status: 400,
    title: 'User is deactivated',
    description: 'A deactivated user cannot connect to MQTT, so no token is issued for it.',
  },
});
