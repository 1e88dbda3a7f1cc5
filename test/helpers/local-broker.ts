import pino from 'pino';
import {
  type EmbeddedBroker,
  type EmbeddedBrokerOptions,
  startEmbeddedBroker,
} from '../../src/integrations/aedes/embedded-broker.js';
import type { Services } from '../../src/services.js';

/** The embedded broker of `services` on a free port of 127.0.0.1, plain MQTT, logging nothing unless told. */
export function startLocalBroker(
  services: Services,
  options: Partial<Omit<EmbeddedBrokerOptions, 'services'>> = {},
): Promise<EmbeddedBroker> {
  return startEmbeddedBroker({
    services,
    logger: pino({ level: 'silent' }),
    host: '127.0.0.1',
    port: 0,
    tls: null,
    ...options,
  });
}
