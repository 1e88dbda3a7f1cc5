import { isUtf8 } from 'node:buffer';
import type { Client } from 'aedes';

/** Why the broker closed a connection on its own (counted per reason; docs/mqtt.md, "Protocol limits"). */
export type ProtocolRefusal = 'packet_too_large' | 'malformed_packet' | 'invalid_string' | 'connect_timeout';

export const PROTOCOL_REFUSALS: readonly ProtocolRefusal[] = [
  'packet_too_large',
  'malformed_packet',
  'invalid_string',
  'connect_timeout',
];

/** The error a refused packet closes its connection with (already counted and logged when aedes reports it). */
export class ProtocolViolation extends Error {
  constructor(
    readonly refusal: ProtocolRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}

/**
 * The largest packet accepted until the CONNECT has been accepted (CONNACK 0), whatever the configured maximum
 * (unless that is smaller). A CONNECT holds a client id, a username, a password and at most one will message;
 * real ones are well under 1 KiB, and 64 KiB still leaves room for a will payload of about 60,000 bytes. The
 * bound is what an unauthenticated peer can make the broker hold for one packet: without it a single CONNECT
 * could announce (and make the broker buffer) 256 MB. Packets a client sends along with its CONNECT, before the
 * CONNACK, are held to it too: MQTT allows that, common clients (mqtt.js, Paho, mosquitto) wait for the CONNACK.
 */
export const CONNECT_MAX_PACKET_BYTES = 65_536;

/**
 * The parts of mqtt-packet's `Parser` (the parser aedes creates per client as `client._parser`) the guard wraps.
 * They are not a public API: test/e2e/embedded-broker-protocol.e2e.test.ts pins every behaviour built on them, and
 * a parser without them is refused (the connection is closed) instead of running unguarded.
 */
interface ParserInternals {
  /** The packet being parsed: `cmd` after the first byte, `length` (the remaining length) after `_parseLength`. */
  packet: { cmd: string; length: number };
  /** The CONNECT packet once parsed (mqtt-packet keeps it to know the protocol version); `{}` before. */
  settings: { protocolVersion?: number };
  error: Error | null;
  /** Read position inside the current packet's bytes. */
  _pos: number;
  /** The buffered input (a `bl` BufferList). */
  _list: { slice(start: number, end: number): Buffer };
  _parseLength(): boolean;
  _parseString(): string | null;
  _emitError(error: Error): void;
}

function parserOf(client: Client): ParserInternals | null {
  const parser = (client as unknown as { _parser?: Partial<ParserInternals> })._parser;
  if (
    parser &&
    typeof parser._parseLength === 'function' &&
    typeof parser._parseString === 'function' &&
    typeof parser._emitError === 'function' &&
    typeof parser._list?.slice === 'function' &&
    typeof parser.packet === 'object' &&
    typeof parser.settings === 'object'
  ) {
    return parser as ParserInternals;
  }
  return null;
}

/** Bytes of the fixed header: one type byte and 1–4 bytes of remaining length. */
function fixedHeaderBytes(remaining: number): number {
  if (remaining < 128) return 2;
  if (remaining < 16_384) return 3;
  if (remaining < 2_097_152) return 4;
  return 5;
}

/**
 * What MQTT 3.1/3.1.1 fixes about a client packet's remaining length that mqtt-packet does not check (it reads the
 * fields it needs and skips the rest): PUBACK, PUBREC, PUBREL and PUBCOMP are a packet id (2); PINGREQ and
 * DISCONNECT are empty (0) — as Mosquitto checks; SUBSCRIBE and UNSUBSCRIBE need a packet id and at least one
 * filter [MQTT-3.8.3-3, MQTT-3.10.3-2] (2 + 2 + 1 and 2 + 2 bytes at least; mqtt-packet accepts a bare packet id
 * as an empty list, and aedes answers it). Answers why the length is wrong, or null.
 */
function remainingLengthViolation(cmd: string, length: number): string | null {
  switch (cmd) {
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return length === 2 ? null : `${cmd.toUpperCase()} with remaining length ${length} (must be 2)`;
    case 'pingreq':
    case 'disconnect':
      return length === 0 ? null : `${cmd.toUpperCase()} with remaining length ${length} (must be 0)`;
    case 'subscribe':
      return length >= 5 ? null : 'SUBSCRIBE without a topic filter';
    case 'unsubscribe':
      return length >= 4 ? null : 'UNSUBSCRIBE without a topic filter';
    default:
      return null;
  }
}

export interface PacketGuardOptions {
  /** Largest packet (fixed header included) once the CONNECT has been accepted. */
  readonly maxPacketBytes: number;
  /** Told once per refused packet, just before the connection is closed; `detail` never holds packet content. */
  readonly onRefusal: (client: Client, refusal: ProtocolRefusal, detail: string) => void;
}

/**
 * Makes aedes' parser for one connection refuse, as soon as they can be told, packets MQTT 3.1.1 requires a server
 * to close the connection for, or that exceed the size limits. A refusal goes through the parser's own error
 * path, so aedes closes the connection exactly as for the malformed packets mqtt-packet itself rejects: the packet
 * is never handled (no delivery, no SUBACK, no CONNACK) and what follows it is never read.
 *
 * - Size: checked right after the fixed header announced the remaining length, before any of it is buffered, so
 *   a peer announcing 256 MB is closed after 5 bytes.
 * - Strings: mqtt-packet decodes every UTF-8 string field (topic names and filters, client id, username, will
 *   topic) with `Buffer#toString`, which silently replaces ill-formed sequences with U+FFFD — and a genuine,
 *   well-formed U+FFFD is legal, so the decoded string cannot tell. The raw bytes of each string are checked
 *   right where mqtt-packet reads them, with `buffer.isUtf8` (strict: no surrogates, no overlong forms; native
 *   and cheap, one call per string) [MQTT-1.5.3-1], and U+0000 is refused [MQTT-1.5.3-2]. Hooking the string
 *   reader keeps mqtt-packet the only MQTT parser; a byte-level guard in front of it would have to parse every
 *   packet type a second time to find its strings.
 *
 * Answers false when the parser does not have the expected shape; the caller must then close the connection.
 */
export function guardPackets(client: Client, options: PacketGuardOptions): boolean {
  const parser = parserOf(client);
  if (parser === null) return false;
  const { maxPacketBytes, onRefusal } = options;
  const connectMaxBytes = Math.min(CONNECT_MAX_PACKET_BYTES, maxPacketBytes);
  const { _parseLength: parseLength, _parseString: parseString, _emitError: emitError } = parser;

  function refuse(target: ParserInternals, refusal: ProtocolRefusal, detail: string): void {
    onRefusal(client, refusal, detail);
    target._emitError(new ProtocolViolation(refusal, detail));
  }

  parser._parseLength = function guardedParseLength(this: ParserInternals): boolean {
    if (!parseLength.call(this)) return false;
    const { cmd, length } = this.packet;
    const size = fixedHeaderBytes(length) + length;
    const limit = client.connected ? maxPacketBytes : connectMaxBytes;
    if (size > limit) {
      const stage = client.connected ? '' : ' before CONNACK';
      refuse(
        this,
        'packet_too_large',
        `${cmd.toUpperCase()} of ${size} bytes exceeds the limit of ${limit}${stage}`,
      );
      return false;
    }
    // MQTT 5 packets carry properties; aedes refuses MQTT 5 at CONNECT anyway.
    if (this.settings.protocolVersion !== 5) {
      const violation = remainingLengthViolation(cmd, length);
      if (violation !== null) {
        refuse(this, 'malformed_packet', violation);
        return false;
      }
    }
    return true;
  };

  parser._parseString = function guardedParseString(this: ParserInternals): string | null {
    // A string field is a 2-byte length, then the bytes; mqtt-packet leaves `_pos` after them.
    const start = this._pos + 2;
    const value = parseString.call(this);
    if (value === null) return null;
    if (!isUtf8(this._list.slice(start, this._pos))) {
      refuse(this, 'invalid_string', 'ill-formed UTF-8 in a string field');
      return null;
    }
    if (value.includes('\u0000')) {
      refuse(this, 'invalid_string', 'U+0000 in a string field');
      return null;
    }
    return value;
  };

  // mqtt-packet's callers answer a null string with an error of their own ("Cannot parse topic"); the first error
  // of a packet is the one that says why, and aedes must see only one.
  parser._emitError = function firstErrorOnly(this: ParserInternals, error: Error): void {
    if (!this.error) emitError.call(this, error);
  };
  return true;
}
