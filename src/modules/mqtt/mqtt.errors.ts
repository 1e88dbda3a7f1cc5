import { defineErrors } from '../../core/errors/app-error.js';

/** Error codes of the embedded broker's connected clients. */
export const mqttError = defineErrors({
  'mqtt.client_not_found': {
    status: 404,
    title: 'MQTT client not connected',
    description: 'No client with this client id is connected to the embedded broker.',
  },
});
