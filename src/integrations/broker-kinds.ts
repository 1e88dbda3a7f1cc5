import type { BrokerKind } from './broker-integration.js';
import type { AnyBrokerKindDefinition } from './broker-kind.js';
import { emqxDefinition } from './emqx/emqx.definition.js';
import { goAuthDefinition } from './go-auth/go-auth.definition.js';
import { mosquittoDefinition } from './mosquitto-dynsec/mosquitto.definition.js';
import { vernemqDefinition } from './vernemq/vernemq.definition.js';

/** Every broker kind's definition (src/integrations/broker-kind.ts), by kind. */
export const BROKER_KIND_DEFINITIONS = {
  mosquitto: mosquittoDefinition,
  emqx: emqxDefinition,
  'go-auth': goAuthDefinition,
  vernemq: vernemqDefinition,
} as const satisfies Record<BrokerKind, AnyBrokerKindDefinition>;

export function kindDefinition(kind: BrokerKind): AnyBrokerKindDefinition {
  return BROKER_KIND_DEFINITIONS[kind];
}
