import type { IClientOptions, MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmbeddedBroker } from '../../src/integrations/aedes/embedded-broker.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { startLocalBroker } from '../helpers/local-broker.js';
import { inbox, mqttClients, subackCodes } from '../helpers/mqtt-inbox.js';
import { createTestContext, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

/**
 * What the Eclipse Paho MQTT 3.1.1 interoperability client test checks (docs/mqtt.md, "Interoperability"), with
 * mqtt.js, for the user that suite runs as: one access role "everything except one carve-out". The suite itself is
 * run by `npm run interop:paho`; these tests keep its behaviours from regressing in CI.
 */

const until = (condition: () => void | Promise<void>): Promise<void> =>
  vi.waitFor(condition, { timeout: 5_000, interval: 5 });

describe('embedded broker: what the Paho interoperability client test expects', () => {
  let t: TestContext;
  let broker: EmbeddedBroker;
  const clients = mqttClients(() => broker.url as string);
  const connect = (options: IClientOptions = {}): Promise<MqttClient> =>
    clients.connect('paho', STRONG_PASSWORD, options);

  beforeAll(async () => {
    t = await createTestContext();
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'paho-carve-out',
      rules: [
        { permission: 'deny', action: 'subscribe', topic: 'test/nosubscribe' },
        { permission: 'allow', action: 'all', topic: '#' },
      ],
    });
    await t.createUser({ username: 'paho', kind: 'service', accessRoles: ['paho-carve-out'] });
    broker = await startLocalBroker(t.services);
  });

  afterEach(async () => {
    await clients.closeAll();
  });

  afterAll(async () => {
    await broker.close();
    await t.close();
  });

  it('grants wide subscriptions under the carve-out and refuses the carve-out itself', async () => {
    const client = await connect();
    expect(await subackCodes(client, { '#': 2, '+/+': 1, '/#': 0 })).toEqual([2, 1, 0]);
    expect(await subackCodes(client, { 'test/nosubscribe': 2 })).toEqual([128]);
    expect(client.connected).toBe(true);
  });

  it('delivers retained messages through a wide subscription, but never the carve-out', async () => {
    const publisher = await connect();
    const topics = ['TopicA', 'TopicA/B', 'Topic/C', 'test/nosubscribe'];
    for (const [qos, topic] of topics.entries())
      await publisher.publishAsync(topic, `retained ${topic}`, {
        qos: Math.min(qos, 2) as 0 | 1 | 2,
        retain: true,
      });
    const subscriber = await connect();
    const messages = inbox(subscriber);
    await subackCodes(subscriber, { '+/+': 2 });
    await until(() =>
      expect(messages.map((message) => message.topic).sort()).toEqual(['Topic/C', 'TopicA/B']),
    );
    expect(messages.every((message) => message.retain)).toBe(true);
    for (const topic of topics) await publisher.publishAsync(topic, '', { qos: 1, retain: true });
  });

  it('delivers a message matching overlapping subscriptions', async () => {
    const client = await connect();
    const messages = inbox(client);
    await subackCodes(client, { 'TopicA/#': 2, 'TopicA/+': 1 });
    await client.publishAsync('TopicA/C', 'overlapping', { qos: 2 });
    await until(() => expect(messages.length).toBeGreaterThan(0));
    expect(messages.every((message) => message.topic === 'TopicA/C')).toBe(true);
  });

  it('queues QoS 1 and 2 messages for an offline persistent session with a wide subscription', async () => {
    const offline = await connect({ clientId: 'paho-offline', clean: false });
    await subackCodes(offline, { '+/+': 2 });
    await offline.endAsync();
    const publisher = await connect();
    await publisher.publishAsync('TopicA/B', 'qos 1', { qos: 1 });
    await publisher.publishAsync('test/nosubscribe', 'carved out', { qos: 2 });
    await publisher.publishAsync('Topic/C', 'qos 2', { qos: 2 });
    const back = await connect({ clientId: 'paho-offline', clean: false });
    const messages = inbox(back);
    await until(() => expect(messages.map((message) => message.payload)).toEqual(['qos 1', 'qos 2']));
  });

  it('acknowledges and drops a publish to a $ topic no rule allows, keeping the connection', async () => {
    const subscriber = await connect();
    const messages = inbox(subscriber);
    await subackCodes(subscriber, { '#': 2 });
    const publisher = await connect();
    await publisher.publishAsync('$TopicA/B', 'dollar', { qos: 1 });
    await publisher.publishAsync('TopicA/B', 'after', { qos: 1 });
    expect(publisher.connected).toBe(true);
    await until(() => expect(messages.map((message) => message.payload)).toEqual(['after']));
  });

  it('stops delivering an unsubscribed filter and keeps the others', async () => {
    const client = await connect();
    const messages = inbox(client);
    await subackCodes(client, { TopicA: 2, 'TopicA/B': 2, 'Topic/C': 2 });
    await client.unsubscribeAsync('TopicA');
    const publisher = await connect();
    for (const topic of ['TopicA', 'TopicA/B', 'Topic/C'])
      await publisher.publishAsync(topic, topic, { qos: 1 });
    await until(() => expect(messages.map((message) => message.topic)).toEqual(['TopicA/B', 'Topic/C']));
  });
});
