import { type Static, Type } from 'typebox';
import { PageSizeSchema } from '../../http/common-schemas.js';

export const MqttClientSchema = Type.Object({
  clientId: Type.String(),
  username: Type.String(),
  ip: Type.String(),
  /** `mqtt` (plain TCP) or `mqtts` (TLS). */
  listener: Type.Enum(['mqtt', 'mqtts'], { type: 'string' }),
  connectedAt: Type.String({ format: 'date-time' }),
  /** Topic filters the client is subscribed to. */
  subscriptions: Type.Array(Type.String()),
});
export type MqttClientInfo = Static<typeof MqttClientSchema>;

export const MqttClientListSchema = Type.Object({
  items: Type.Array(MqttClientSchema),
  total: Type.Integer(),
  page: Type.Integer(),
  pageSize: Type.Integer(),
});
export type MqttClientList = Static<typeof MqttClientListSchema>;

export const ListMqttClientsQuery = Type.Object(
  {
    username: Type.Optional(Type.String({ maxLength: 100 })),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
    pageSize: Type.Optional(PageSizeSchema),
  },
  { additionalProperties: false },
);
export type ListMqttClientsInput = Static<typeof ListMqttClientsQuery>;

export const MqttClientParams = Type.Object({ clientId: Type.String({ maxLength: 65535 }) });
