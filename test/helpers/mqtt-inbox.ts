import mqtt, { type IClientOptions, type ISubscriptionMap, type MqttClient } from 'mqtt';

/** A message as a test checks it. */
export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** Collects a client's messages in arrival order. */
export function inbox(client: MqttClient): Received[] {
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) =>
    messages.push({ topic, payload: String(payload), retain: packet.retain }),
  );
  return messages;
}

type QoS = 0 | 1 | 2;

/**
 * The SUBACK return codes of one SUBSCRIBE (128 = refused), in the order of the filters: one filter or a list at
 * `qos`, or filters each with its own QoS. mqtt.js reports a SUBACK holding 128 as an error carrying the packet.
 */
export function subackCodes(
  client: MqttClient,
  filters: string | readonly string[] | Readonly<Record<string, QoS>>,
  qos: QoS = 0,
): Promise<number[]> {
  const entries: Array<[string, QoS]> =
    typeof filters === 'string'
      ? [[filters, qos]]
      : Array.isArray(filters)
        ? filters.map((filter): [string, QoS] => [filter, qos])
        : Object.entries(filters as Record<string, QoS>);
  const request: ISubscriptionMap = Object.fromEntries(
    entries.map(([filter, level]) => [filter, { qos: level }]),
  );
  return new Promise((resolve, reject) => {
    client.subscribe(request, (error, granted) => {
      const packet = (error as { packet?: { granted?: number[] } } | undefined)?.packet;
      if (packet?.granted) return resolve(packet.granted);
      if (error) return reject(error);
      resolve((granted ?? []).map((grant) => grant.qos));
    });
  });
}

/**
 * MQTT 3.1.1 clients of one test file: each connects once (no reconnects) with a client id of its own, and
 * `closeAll` ends those still open (after each test).
 */
export function mqttClients(url: () => string): {
  connect(username: string, password: string, options?: IClientOptions): Promise<MqttClient>;
  closeAll(): Promise<void>;
} {
  const open: MqttClient[] = [];
  let nextId = 0;
  return {
    async connect(username, password, options = {}) {
      const client = await mqtt.connectAsync(url(), {
        username,
        password,
        clientId: `c${nextId++}-${username}`,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        protocolVersion: 4,
        ...options,
      });
      open.push(client);
      return client;
    },
    async closeAll() {
      await Promise.all(open.splice(0).map((client) => client.endAsync(true)));
    },
  };
}
