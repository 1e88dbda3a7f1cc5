import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { type Packet, parser } from 'mqtt-packet';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/integrations/aedes/embedded-broker.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { startLocalBroker } from '../helpers/local-broker.js';
import { createTestContext, STRONG_PASSWORD, type TestContext } from '../helpers/test-app.js';

/**
 * The embedded broker's protocol limits and its answer to malformed packets (docs/mqtt.md, "Protocol limits and
 * malformed packets"), driven with raw TCP sockets and hand-built packet bytes: mqtt.js would refuse to send
 * most of them. "Closed" always means closed by the broker, without the answer a well-formed packet would get.
 */

const until = (condition: () => void | Promise<void>): Promise<void> =>
  vi.waitFor(condition, { timeout: 5_000, interval: 5 });

// ---- packet bytes ---------------------------------------------------------------------------------------

function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  let rest = length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return Buffer.from(bytes);
}

function packet(firstByte: number, ...body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(payload.length), payload]);
}

const u16 = (value: number): Buffer => Buffer.from([value >> 8, value & 0xff]);
/** A length-prefixed string or binary field; a Buffer is put on the wire as it is (ill-formed on purpose). */
const field = (value: string | Buffer): Buffer => {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([u16(bytes.length), bytes]);
};
/** `prefix` followed by raw bytes, e.g. bytes('fz/', 0xc3, 0x28). */
const bytes = (prefix: string, ...raw: number[]): Buffer =>
  Buffer.concat([Buffer.from(prefix), Buffer.from(raw)]);

interface ConnectFields {
  clientId: string | Buffer;
  username?: string | Buffer;
  password?: string;
  will?: { topic: string | Buffer; payload: Buffer };
  /** cleanSession, true unless set. */
  clean?: boolean;
  /** MQTT 3.1 (protocol name `MQIsdp`, level 3) instead of 3.1.1. */
  mqtt31?: boolean;
}

function connectPacket({ clientId, username, password, will, clean = true, mqtt31 }: ConnectFields): Buffer {
  // keep alive 0, so an idle raw socket is never closed for silence
  let flags = clean ? 0x02 : 0;
  const tail: Buffer[] = [field(clientId)];
  if (will) {
    flags |= 0x04;
    tail.push(field(will.topic), field(will.payload));
  }
  if (username !== undefined) {
    flags |= 0x80;
    tail.push(field(username));
  }
  if (password !== undefined) {
    flags |= 0x40;
    tail.push(field(password));
  }
  const protocol = mqtt31
    ? [field('MQIsdp'), Buffer.from([3, flags])]
    : [field('MQTT'), Buffer.from([4, flags])];
  return packet(0x10, ...protocol, u16(0), ...tail);
}

/** A CONNECT of exactly `size` bytes on the wire, padded through its will payload. */
function connectOfSize(size: number, fields: ConnectFields): Buffer {
  let padding = 0;
  for (;;) {
    const built = connectPacket({
      ...fields,
      will: { topic: 'will/pad', payload: Buffer.alloc(padding, 0x61) },
    });
    if (built.length === size) return built;
    padding += size - built.length;
  }
}

const publishPacket = (topic: string | Buffer, payload: string | Buffer, messageId?: number): Buffer =>
  messageId === undefined
    ? packet(0x30, field(topic), Buffer.from(payload))
    : packet(0x32, field(topic), u16(messageId), Buffer.from(payload));
const subscribePacket = (messageId: number, ...filters: Array<string | Buffer>): Buffer =>
  packet(0x82, u16(messageId), ...filters.map((filter) => Buffer.concat([field(filter), Buffer.from([0])])));
const unsubscribePacket = (messageId: number, ...filters: Array<string | Buffer>): Buffer =>
  packet(0xa2, u16(messageId), ...filters.map(field));

/** A PUBLISH (QoS 0) of exactly `size` bytes on the wire. */
function publishOfSize(size: number, topic: string): Buffer {
  let padding = 0;
  for (;;) {
    const built = publishPacket(topic, Buffer.alloc(padding, 0x62));
    if (built.length === size) return built;
    padding += size - built.length;
  }
}

// ---- a raw MQTT connection --------------------------------------------------------------------------------

interface RawConnection {
  /** Every packet the broker sent, in order. */
  readonly received: Packet[];
  /** True once the connection is closed (by the broker, in these tests). */
  isClosed(): boolean;
  write(data: Buffer): void;
  destroy(): void;
}

async function rawConnection(port: number): Promise<RawConnection> {
  const socket = net.connect(port, '127.0.0.1');
  const received: Packet[] = [];
  const incoming = parser({ protocolVersion: 4 });
  incoming.on('packet', (packet: Packet) => received.push(packet));
  socket.on('data', (data) => incoming.parse(data));
  // The broker destroys a connection with unread input (ECONNRESET) and later writes fail (EPIPE): expected.
  socket.on('error', () => {});
  let isClosed = false;
  socket.once('close', () => {
    isClosed = true;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    received,
    isClosed: () => isClosed,
    write: (data) => {
      if (!socket.destroyed) socket.write(data);
    },
    destroy: () => socket.destroy(),
  };
}

/** Waits until the broker has closed the connection. */
const closedByBroker = (connection: RawConnection): Promise<void> =>
  until(() => expect(connection.isClosed()).toBe(true));

const commands = (connection: RawConnection): string[] => connection.received.map((packet) => packet.cmd);

describe('embedded broker protocol limits and malformed packets (raw TCP)', () => {
  /** Above the 64 KiB CONNECT bound, so the two limits can be told apart. */
  const MAX_PACKET_BYTES = 100_000;
  /** What the broker logs, parsed (debug and up). */
  const logLines: Array<Record<string, unknown>> = [];
  let t: TestContext;
  let broker: EmbeddedBroker;
  let port: number;
  const raws: RawConnection[] = [];
  const clients: MqttClient[] = [];
  let nextId = 0;

  async function raw(): Promise<RawConnection> {
    const connection = await rawConnection(port);
    raws.push(connection);
    return connection;
  }

  /** A raw connection that completed CONNECT as `svc` (CONNACK 0). */
  async function session(fields: Partial<ConnectFields> = {}): Promise<RawConnection> {
    const connection = await raw();
    connection.write(
      connectPacket({ clientId: `raw-${nextId++}`, username: 'svc', password: STRONG_PASSWORD, ...fields }),
    );
    await until(() => expect(connection.received[0]).toMatchObject({ cmd: 'connack', returnCode: 0 }));
    return connection;
  }

  async function client(): Promise<MqttClient> {
    const connected = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      username: 'svc',
      password: STRONG_PASSWORD,
      clientId: `mqttjs-${nextId++}`,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    clients.push(connected);
    return connected;
  }

  /** A subscriber allowed to receive everything (`svc` holds `#`): what it gets, in arrival order. */
  async function watcher(): Promise<{ topic: Buffer; payload: string }[]> {
    const watching = await client();
    const messages: { topic: Buffer; payload: string }[] = [];
    // The raw topic bytes (mqtt.js decodes them like aedes): a mangled topic would show here.
    watching.on('message', (_topic, payload, packet) =>
      messages.push({ topic: Buffer.from(packet.topic, 'utf8'), payload: String(payload) }),
    );
    await watching.subscribeAsync('#', { qos: 0 });
    return messages;
  }

  /**
   * Publishes a marker on an allowed topic from another connection and waits until the watcher has it: whatever
   * the broker accepted before is delivered by then. Answers what arrived apart from markers.
   */
  async function settled(
    messages: { topic: Buffer; payload: string }[],
  ): Promise<{ topic: string; payload: string }[]> {
    const marker = `marker/${nextId++}`;
    await (await client()).publishAsync(marker, 'settle', { qos: 1 });
    await until(() => expect(messages.some((m) => m.topic.toString() === marker)).toBe(true));
    return messages
      .filter((m) => !m.topic.toString().startsWith('marker/'))
      .map((m) => ({ topic: m.topic.toString('hex'), payload: m.payload }));
  }

  const refusals = (): Readonly<Record<string, number>> => ({ ...broker.protocolRefusals() });

  beforeAll(async () => {
    t = await createTestContext();
    await t.services.accessRoles.create(CLI_CONTEXT, {
      name: 'ops',
      rules: [{ permission: 'allow', action: 'all', topic: '#' }],
    });
    await t.createUser({ username: 'svc', kind: 'service', accessRoles: ['ops'] });
    broker = await startEmbeddedBroker({
      services: t.services,
      logger: pino({ level: 'debug' }, { write: (line: string) => logLines.push(JSON.parse(line)) }),
      host: '127.0.0.1',
      port: 0,
      tls: null,
      maxPacketBytes: MAX_PACKET_BYTES,
    });
    port = broker.port as number;
  });

  afterEach(async () => {
    for (const connection of raws.splice(0)) connection.destroy();
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await until(() => expect(t.services.mqttConnections.size).toBe(0));
  });

  afterAll(async () => {
    await broker.close();
    await t.close();
  });

  describe('packet size limits (unauthenticated memory exhaustion)', () => {
    it('a CONNECT announcing 256 MB is closed at its fixed header, however slowly the rest trickles in', async () => {
      const before = refusals();
      const attacker = await raw();
      // Remaining length 268,435,455 (the MQTT maximum), then a trickle that never completes the packet.
      attacker.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
      const trickle = setInterval(() => attacker.write(Buffer.alloc(1024, 0x61)), 10);
      try {
        await closedByBroker(attacker);
      } finally {
        clearInterval(trickle);
      }
      expect(commands(attacker)).toEqual([]);
      expect(refusals().packet_too_large).toBe((before.packet_too_large ?? 0) + 1);
      // The broker is fine: a legitimate client connects and publishes.
      await (await client()).publishAsync('still/working', 'yes', { qos: 1 });
    });

    it('a CONNECT of 64 KiB is accepted; one byte more is closed without CONNACK', async () => {
      const fields = { clientId: 'big-connect', username: 'svc', password: STRONG_PASSWORD };
      const largest = await raw();
      largest.write(connectOfSize(65_536, fields));
      await until(() => expect(largest.received[0]).toMatchObject({ cmd: 'connack', returnCode: 0 }));
      largest.write(packet(0xe0)); // DISCONNECT: no will
      await closedByBroker(largest);

      const before = refusals();
      const tooLarge = await raw();
      tooLarge.write(connectOfSize(65_537, fields));
      await closedByBroker(tooLarge);
      expect(commands(tooLarge)).toEqual([]);
      expect(refusals().packet_too_large).toBe((before.packet_too_large ?? 0) + 1);
    });

    it('after CONNECT, a packet of maxPacketBytes is delivered; one byte more closes the connection and goes nowhere', async () => {
      const messages = await watcher();
      const publisher = await session();
      publisher.write(publishOfSize(MAX_PACKET_BYTES, 'size/fits'));
      await until(() => expect(messages.map((m) => m.topic.toString())).toContain('size/fits'));

      const before = refusals();
      const offender = await session();
      offender.write(publishOfSize(MAX_PACKET_BYTES + 1, 'size/too-large'));
      await closedByBroker(offender);
      expect(refusals().packet_too_large).toBe((before.packet_too_large ?? 0) + 1);
      expect((await settled(messages)).map((m) => Buffer.from(m.topic, 'hex').toString())).toEqual([
        'size/fits',
      ]);
      expect(publisher.isClosed()).toBe(false);
    });

    it('a PUBLISH announcing 256 MB after CONNECT is closed at its fixed header', async () => {
      const messages = await watcher();
      const offender = await session();
      offender.write(Buffer.concat([Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]), field('huge/topic')]));
      const trickle = setInterval(() => offender.write(Buffer.alloc(1024, 0x61)), 10);
      try {
        await closedByBroker(offender);
      } finally {
        clearInterval(trickle);
      }
      expect(await settled(messages)).toEqual([]);
    });

    it('before the CONNACK, a packet sent along with the CONNECT is held to the 64 KiB bound too', async () => {
      const messages = await watcher();
      const before = refusals();
      const offender = await raw();
      offender.write(
        Buffer.concat([
          connectPacket({ clientId: 'eager', username: 'svc', password: STRONG_PASSWORD }),
          publishOfSize(70_000, 'eager/too-large'),
        ]),
      );
      await closedByBroker(offender);
      expect(refusals().packet_too_large).toBe((before.packet_too_large ?? 0) + 1);
      expect(await settled(messages)).toEqual([]);
    });
  });

  describe('ill-formed UTF-8 and NUL in strings close the connection [MQTT-1.5.3-1, MQTT-1.5.3-2]', () => {
    const illFormed: Array<[string, number[]]> = [
      ['a broken two-byte sequence (C3 28)', [0xc3, 0x28]],
      ['a UTF-16 surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
      ['an overlong "/" (C0 AF)', [0xc0, 0xaf]],
      ['a byte never valid in UTF-8 (FF)', [0xff]],
      ['a truncated sequence at the end (E2 82)', [0xe2, 0x82]],
      ['U+0000 (00)', [0x00]],
    ];

    it.each(illFormed)(
      'PUBLISH to a topic with %s: closed, no PUBACK, nothing delivered',
      async (_case, raw) => {
        const messages = await watcher();
        const offender = await session();
        offender.write(publishPacket(bytes('fz/', ...raw), 'mangled', 1));
        await closedByBroker(offender);
        expect(commands(offender)).toEqual(['connack']);
        expect(await settled(messages)).toEqual([]);
      },
    );

    it.each(illFormed)('SUBSCRIBE to a filter with %s: closed without SUBACK', async (_case, raw) => {
      const offender = await session();
      offender.write(subscribePacket(1, 'ok/#', bytes('fz/', ...raw)));
      await closedByBroker(offender);
      expect(commands(offender)).toEqual(['connack']);
    });

    it.each(illFormed)('UNSUBSCRIBE from a filter with %s: closed without UNSUBACK', async (_case, raw) => {
      const offender = await session();
      offender.write(unsubscribePacket(1, bytes('fz/', ...raw)));
      await closedByBroker(offender);
      expect(commands(offender)).toEqual(['connack']);
    });

    const connectStrings: Array<[string, (bad: Buffer) => Partial<ConnectFields>]> = [
      ['client id', (bad) => ({ clientId: bad })],
      ['username', (bad) => ({ username: bad })],
      ['will topic', (bad) => ({ will: { topic: bad, payload: Buffer.from('gone') } })],
    ];
    it.each(connectStrings)(
      'a CONNECT with ill-formed UTF-8 or NUL in its %s: closed without CONNACK',
      async (_f, make) => {
        const messages = await watcher();
        for (const bad of [bytes('c-', 0xc3, 0x28), bytes('c-', 0x00)]) {
          const offender = await raw();
          offender.write(
            connectPacket({
              clientId: `ok-${nextId++}`,
              username: 'svc',
              password: STRONG_PASSWORD,
              ...make(bad),
            }),
          );
          await closedByBroker(offender);
          expect(commands(offender)).toEqual([]);
        }
        // No will went out either.
        expect(await settled(messages)).toEqual([]);
      },
    );

    it('well-formed U+FFFD, a 4-byte character and a leading U+FEFF are delivered byte for byte', async () => {
      const messages = await watcher();
      const publisher = await session();
      const topics = [
        bytes('fz/', 0xef, 0xbf, 0xbd), // U+FFFD itself is legal
        bytes('fz/', 0xf0, 0x9f, 0x8c, 0xa1), // U+1F321
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('fz/bom')]), // must not be stripped [MQTT-1.5.3-3]
      ];
      for (const topic of topics) publisher.write(publishPacket(topic, 'ok'));
      await until(() =>
        expect(messages.map((m) => m.topic.toString('hex'))).toEqual(
          topics.map((topic) => topic.toString('hex')),
        ),
      );
      expect(publisher.isClosed()).toBe(false);
    });
  });

  it('logs each closure without packet content: warn for an authenticated client, debug for anyone else', async () => {
    logLines.length = 0;
    const offender = await session({ clientId: 'logged-client' });
    offender.write(publishPacket(bytes('secret-topic/', 0xc3, 0x28), 'secret-payload'));
    await closedByBroker(offender);
    const anonymous = await raw();
    anonymous.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
    await closedByBroker(anonymous);
    const closures = logLines.filter((line) => line.refusal !== undefined);
    expect(closures).toEqual([
      expect.objectContaining({
        level: 40,
        refusal: 'invalid_string',
        username: 'svc',
        clientId: 'logged-client',
        ip: '127.0.0.1',
      }),
      expect.objectContaining({ level: 20, refusal: 'packet_too_large', ip: '127.0.0.1' }),
    ]);
    expect(closures[1]).not.toHaveProperty('username');
    const logged = JSON.stringify(logLines);
    expect(logged).not.toContain('secret-topic');
    expect(logged).not.toContain('secret-payload');
  });

  describe('an empty client id', () => {
    const connack = async (fields: Partial<ConnectFields>): Promise<RawConnection> => {
      const connection = await raw();
      connection.write(
        connectPacket({ clientId: '', username: 'svc', password: STRONG_PASSWORD, ...fields }),
      );
      await until(() => expect(connection.received[0]?.cmd).toBe('connack'));
      return connection;
    };

    it('with cleanSession=false is refused: CONNACK 2 "identifier rejected", then closed [MQTT-3.1.3-8]', async () => {
      const refused = await connack({ clean: false });
      expect(refused.received[0]).toMatchObject({ returnCode: 2, sessionPresent: false });
      await closedByBroker(refused);
      // Refused before the password is looked at: no login is audited for it.
      const logins = await t.services.audit.list({ action: 'mqtt.connect' }, 1, 100);
      expect(logins.items.filter((event) => event.details.clientId === '')).toEqual([]);
    });

    it('on MQTT 3.1 is refused with CONNACK 2 even with a clean session (3.1 needs 1 to 23 characters)', async () => {
      const refused = await connack({ mqtt31: true });
      expect(refused.received[0]).toMatchObject({ returnCode: 2 });
      await closedByBroker(refused);
      const named = await connack({ mqtt31: true, clientId: 'named-31' });
      expect(named.received[0]).toMatchObject({ returnCode: 0 });
    });

    it('with cleanSession=true on MQTT 3.1.1 is accepted and given an id by the broker [MQTT-3.1.3-6]', async () => {
      const accepted = await connack({ clean: true });
      expect(accepted.received[0]).toMatchObject({ returnCode: 0 });
      expect(t.services.mqttConnections.all().map((c) => c.clientId)).toEqual([
        expect.stringMatching(/^aedes_/),
      ]);
    });
  });

  describe('packets without their mandatory parts, or with parts they must not have', () => {
    it('a SUBSCRIBE without any filter is closed without SUBACK [MQTT-3.8.3-3]', async () => {
      const offender = await session();
      offender.write(packet(0x82, u16(1)));
      await closedByBroker(offender);
      expect(commands(offender)).toEqual(['connack']);
    });

    it('an UNSUBSCRIBE without any filter is closed without UNSUBACK [MQTT-3.10.3-2]', async () => {
      const offender = await session();
      offender.write(packet(0xa2, u16(1)));
      await closedByBroker(offender);
      expect(commands(offender)).toEqual(['connack']);
    });

    it('a PINGREQ with a payload is closed without PINGRESP', async () => {
      const control = await session();
      control.write(packet(0xc0));
      await until(() => expect(commands(control)).toEqual(['connack', 'pingresp']));
      const offender = await session();
      offender.write(packet(0xc0, Buffer.from([0x00])));
      await closedByBroker(offender);
      expect(commands(offender)).toEqual(['connack']);
    });

    it('a DISCONNECT with a payload is a protocol violation, not a clean disconnect: the will goes out', async () => {
      const messages = await watcher();
      const offender = await session({ will: { topic: 'will/violation', payload: Buffer.from('gone') } });
      offender.write(packet(0xe0, Buffer.from([0x00])));
      await closedByBroker(offender);
      expect(await settled(messages)).toEqual([
        { topic: Buffer.from('will/violation').toString('hex'), payload: 'gone' },
      ]);
    });
  });
});

describe('embedded broker CONNECT timeout', () => {
  let t: TestContext;
  let broker: EmbeddedBroker;

  beforeAll(async () => {
    t = await createTestContext();
    await t.createUser({ username: 'slow', kind: 'device' });
    broker = await startLocalBroker(t.services, {
      connectTimeoutMs: 300,
    });
  });
  afterAll(async () => {
    await broker.close();
    await t.close();
  });

  it('closes a connection that sends nothing, and one whose CONNECT never completes', async () => {
    const silent = await rawConnection(broker.port as number);
    const partial = await rawConnection(broker.port as number);
    const connect = connectPacket({ clientId: 'slow', username: 'slow', password: STRONG_PASSWORD });
    partial.write(connect.subarray(0, connect.length - 3));
    await Promise.all([closedByBroker(silent), closedByBroker(partial)]);
    expect(commands(silent)).toEqual([]);
    expect(commands(partial)).toEqual([]);
    expect(broker.protocolRefusals().connect_timeout).toBe(2);
    // A client that completes its CONNECT in time is not affected.
    const client = await mqtt.connectAsync(broker.url as string, {
      username: 'slow',
      password: STRONG_PASSWORD,
      reconnectPeriod: 0,
    });
    await client.endAsync();
  });
});
