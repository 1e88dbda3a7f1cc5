import type { MqttClient } from 'mqtt';

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
