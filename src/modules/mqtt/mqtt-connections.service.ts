import type { Kysely } from 'kysely';
import { toIso } from '../../core/clock.js';
import type { Database } from '../../db/schema.js';
import type { QoS } from '../access-engine/index.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OperationContext } from '../permissions/operation-context.js';
import { mqttError } from './mqtt.errors.js';
import type { ListMqttClientsInput, MqttClientInfo, MqttClientList } from './mqtt-clients.schemas.js';

/**
 * One live MQTT connection on a broker Warden runs in-process (the embedded aedes broker). This is the port
 * live enforcement works through; the broker adapter implements it.
 */
export interface MqttConnection {
  readonly clientId: string;
  /** The user's stored spelling. */
  readonly username: string;
  readonly ip: string;
  /** Epoch ms. */
  readonly connectedAt: number;
  readonly listener: 'mqtt' | 'mqtts';
  /** The serial of the client certificate it authenticated with (docs/certificates.md); absent: a password. */
  readonly certificateSerial?: string | null;
  /** The filters granted to this connection, with their QoS. */
  subscriptions(): ReadonlyMap<string, QoS>;
  /** Removes subscriptions on the broker's side, as if the client had unsubscribed. */
  unsubscribe(filters: readonly string[]): Promise<void>;
  /** Closes the network connection at once. */
  close(): void;
}

export type MqttConnectionsService = ReturnType<typeof createMqttConnectionsService>;

function toInfo(connection: MqttConnection): MqttClientInfo {
  return {
    clientId: connection.clientId,
    username: connection.username,
    ip: connection.ip,
    listener: connection.listener,
    connectedAt: toIso(connection.connectedAt),
    subscriptions: [...connection.subscriptions().keys()],
  };
}

/** The registry of live MQTT connections: listed and disconnected through the API, revoked by enforcement. */
export function createMqttConnectionsService(deps: { db: Kysely<Database>; audit: AuditService }) {
  const byClientId = new Map<string, MqttConnection>();
  const byUser = new Map<string, Set<MqttConnection>>();

  return {
    add(connection: MqttConnection): void {
      // A takeover (same client id) replaces the entry; the old connection removes only itself when it closes.
      byClientId.set(connection.clientId, connection);
      const key = connection.username.toLowerCase();
      let set = byUser.get(key);
      if (!set) {
        set = new Set();
        byUser.set(key, set);
      }
      set.add(connection);
    },

    remove(connection: MqttConnection): void {
      if (byClientId.get(connection.clientId) === connection) byClientId.delete(connection.clientId);
      const key = connection.username.toLowerCase();
      const set = byUser.get(key);
      set?.delete(connection);
      if (set?.size === 0) byUser.delete(key);
    },

    /** Every live connection. */
    all(): MqttConnection[] {
      return [...byClientId.values()];
    },

    ofUser(username: string): MqttConnection[] {
      return [...(byUser.get(username.toLowerCase()) ?? [])];
    },

    get size(): number {
      return byClientId.size;
    },

    list(input: ListMqttClientsInput): MqttClientList {
      const page = input.page ?? 1;
      const pageSize = input.pageSize ?? 25;
      const all = input.username
        ? [...(byUser.get(input.username.toLowerCase()) ?? [])]
        : [...byClientId.values()];
      all.sort((a, b) => a.connectedAt - b.connectedAt || a.clientId.localeCompare(b.clientId));
      return {
        items: all.slice((page - 1) * pageSize, page * pageSize).map(toInfo),
        total: all.length,
        page,
        pageSize,
      };
    },

    /** Disconnects a client (audited `mqtt.disconnect`); it may reconnect if its credentials still work. */
    async disconnect(ctx: OperationContext, clientId: string): Promise<void> {
      const connection = byClientId.get(clientId);
      if (!connection) throw mqttError('mqtt.client_not_found', `No connected client "${clientId}"`);
      await deps.db.transaction().execute((trx) =>
        deps.audit.record(trx, ctx, {
          action: 'mqtt.disconnect',
          target: `mqtt_client:${clientId}`,
          details: { username: connection.username, ip: connection.ip, listener: connection.listener },
        }),
      );
      connection.close();
    },
  };
}
