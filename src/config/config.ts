import os from 'node:os';
import path from 'node:path';
import { invalidCidrs } from '../core/net/address-list.js';

/** Log levels accepted by `WARDEN_LOG_LEVEL` (pino's names). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Default `WARDEN_MQTT_MAX_PACKET_BYTES`: 1 MiB, as EMQX's default `max_packet_size`. Far above telemetry and
 * command messages (usually under 1 KiB), small enough that a client cannot make the broker hold much per packet.
 */
export const DEFAULT_MQTT_MAX_PACKET_BYTES = 1_048_576;
/** Below this, ordinary CONNECTs (client id, username, password) would no longer fit. */
export const MIN_MQTT_MAX_PACKET_BYTES = 1_024;
/** The largest packet MQTT can express: remaining length 268,435,455 plus a 5-byte fixed header. */
export const MAX_MQTT_MAX_PACKET_BYTES = 268_435_460;

/** Default `WARDEN_REDIS_PREFIX`. */
export const DEFAULT_REDIS_PREFIX = 'warden';
/**
 * Letters, digits, `_`, `.`, `:` and `-`: the prefix heads pub/sub channels that carry MQTT topics (so no `/`,
 * `+`, `#`) whose wildcard subscriptions are Redis glob patterns (so no `*`, `?`, `[`, `]`, `\`).
 */
const REDIS_PREFIX_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Warden's whole configuration, read once at start from the environment, validated, then frozen.
 * Every key is documented in docs/config.md (a test keeps the two in sync).
 */
export interface Config {
  readonly httpPort: number;
  readonly httpHost: string;
  readonly dataDir: string;
  /** `postgres://…` selects PostgreSQL; otherwise SQLite at `<dataDir>/warden.db`. */
  readonly databaseUrl: string | null;
  readonly adminPassword: string | null;
  readonly secretKey: string | null;
  /** 0 turns the embedded broker off. */
  readonly mqttPort: number;
  /** True when WARDEN_MQTT_PORT was not set: a taken default port then falls back to a free one. */
  readonly mqttPortIsDefault: boolean;
  readonly mqttHost: string;
  readonly mqttsPort: number;
  readonly mqttTlsCertPath: string | null;
  readonly mqttTlsKeyPath: string | null;
  /** Largest MQTT packet (fixed header included) the embedded broker accepts after CONNECT. */
  readonly mqttMaxPacketBytes: number;
  readonly logLevel: LogLevel;
  /** Trust X-Forwarded-* from a reverse proxy (client IP, https detection for Secure cookies). */
  readonly trustProxy: boolean;
  /** This instance's name among several on one database (the holder of the duties is named by it). */
  readonly instanceId: string;
  /** `redis://…` or `rediss://…`: the embedded brokers of all instances form one broker through it; null = standalone. */
  readonly redisUrl: string | null;
  /** Prefix of Warden's Redis keys and pub/sub channels, so that several deployments can share one Redis. */
  readonly redisPrefix: string;
  /** Networks (CIDR) that may scrape `/metrics` without a token; empty = scrape tokens only. */
  readonly metricsAllowFrom: readonly string[];
}

/** One documented environment variable. `docs/config.md` is checked against this list by a test. */
export interface ConfigKey {
  readonly env: string;
  readonly defaultValue: string;
  readonly description: string;
}

export const CONFIG_KEYS: readonly ConfigKey[] = [
  { env: 'WARDEN_HTTP_PORT', defaultValue: '8080', description: 'Port of the API and console.' },
  { env: 'WARDEN_HTTP_HOST', defaultValue: '0.0.0.0', description: 'Interface the API and console bind to.' },
  { env: 'WARDEN_DATA_DIR', defaultValue: './data', description: 'SQLite database and generated key file.' },
  {
    env: 'DATABASE_URL',
    defaultValue: '(unset: SQLite in the data dir)',
    description: 'A postgres:// URL switches storage to PostgreSQL.',
  },
  {
    env: 'WARDEN_ADMIN_PASSWORD',
    defaultValue: '(unset: generated and printed once)',
    description: 'Password of the root user `admin`, used only when it is created at first start.',
  },
  {
    env: 'WARDEN_SECRET_KEY',
    defaultValue: '(unset: generated into <data dir>/secret.key, mode 0600)',
    description: 'Key for encryption at rest (TOTP secrets) and credential-cache HMACs; 32+ characters.',
  },
  {
    env: 'WARDEN_MQTT_PORT',
    defaultValue: '1883',
    description:
      'Embedded MQTT broker port; 0 = no plain listener (broker off when WARDEN_MQTTS_PORT is 0 too).',
  },
  {
    env: 'WARDEN_MQTT_HOST',
    defaultValue: '0.0.0.0',
    description: 'Interface the embedded broker binds to.',
  },
  {
    env: 'WARDEN_MQTTS_PORT',
    defaultValue: '0',
    description: 'MQTT over TLS port; 0 = off. Needs cert and key.',
  },
  {
    env: 'WARDEN_MQTT_TLS_CERT',
    defaultValue: '(unset)',
    description: 'PEM certificate for the TLS listener.',
  },
  {
    env: 'WARDEN_MQTT_TLS_KEY',
    defaultValue: '(unset)',
    description: 'PEM private key for the TLS listener.',
  },
  {
    env: 'WARDEN_MQTT_MAX_PACKET_BYTES',
    defaultValue: String(DEFAULT_MQTT_MAX_PACKET_BYTES),
    description: `Largest MQTT packet in bytes, fixed header included, the embedded broker accepts once a client is connected; a larger one closes the connection. ${MIN_MQTT_MAX_PACKET_BYTES}-${MAX_MQTT_MAX_PACKET_BYTES}.`,
  },
  { env: 'WARDEN_LOG_LEVEL', defaultValue: 'info', description: `One of ${LOG_LEVELS.join(', ')}.` },
  {
    env: 'WARDEN_TRUST_PROXY',
    defaultValue: 'false',
    description: 'Trust X-Forwarded-For/-Proto from a reverse proxy in front of Warden.',
  },
  {
    env: 'WARDEN_INSTANCE_ID',
    defaultValue: '<hostname>:<pid>',
    description:
      "This instance's name when several share one database (the broker status names the one running the duties).",
  },
  {
    env: 'WARDEN_REDIS_URL',
    defaultValue: '(unset: each instance runs its own broker)',
    description:
      'A redis:// or rediss:// URL: the embedded brokers of all instances using it form one broker (fan-out, subscriptions, retained messages, sessions).',
  },
  {
    env: 'WARDEN_REDIS_PREFIX',
    defaultValue: DEFAULT_REDIS_PREFIX,
    description:
      'Prefix of the Redis keys and pub/sub channels; deployments sharing one Redis need different prefixes. 1-64 of A-Z a-z 0-9 _ . : -',
  },
  {
    env: 'WARDEN_METRICS_ALLOW_FROM',
    defaultValue: '(unset: scrape tokens only)',
    description:
      'Comma-separated networks (CIDR, IPv4 or IPv6; a bare address is /32 or /128) whose requests may read GET /metrics without a scrape token, e.g. 10.0.5.0/24,::1 (docs/metrics.md).',
  },
];

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function readPort(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(name, `must be a port number 0-65535, got "${raw}"`);
  }
  return port;
}

function readPacketBytes(env: Env, name: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return DEFAULT_MQTT_MAX_PACKET_BYTES;
  const bytes = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(bytes >= MIN_MQTT_MAX_PACKET_BYTES && bytes <= MAX_MQTT_MAX_PACKET_BYTES)) {
    throw new ConfigError(
      name,
      `must be a whole number of bytes from ${MIN_MQTT_MAX_PACKET_BYTES} to ${MAX_MQTT_MAX_PACKET_BYTES}, got "${raw}"`,
    );
  }
  return bytes;
}

function readOptional(env: Env, name: string): string | null {
  const raw = env[name];
  return raw === undefined || raw === '' ? null : raw;
}

function readRedisUrl(env: Env, name: string): string | null {
  const raw = readOptional(env, name);
  if (raw === null) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The value may hold a password: never echo it.
    throw new ConfigError(name, 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379');
  }
  if ((url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    throw new ConfigError(name, 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379');
  }
  return raw;
}

function readRedisPrefix(env: Env, name: string): string {
  const raw = readOptional(env, name);
  if (raw === null) return DEFAULT_REDIS_PREFIX;
  if (!REDIS_PREFIX_PATTERN.test(raw)) {
    throw new ConfigError(
      name,
      `must be 1-64 characters from A-Z a-z 0-9 _ . : - (no /, +, #, *, ?, [ or ]), got "${raw}"`,
    );
  }
  return raw;
}

function readBoolean(env: Env, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return false;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

/** At most 100 printable characters; by default the host name and process id, unique on a network. */
function readInstanceId(env: Env): string {
  const raw = readOptional(env, 'WARDEN_INSTANCE_ID');
  if (raw === null) return `${os.hostname()}:${process.pid}`;
  if (!/^[\x21-\x7e]{1,100}$/.test(raw)) {
    throw new ConfigError('WARDEN_INSTANCE_ID', 'must be 1 to 100 printable characters without spaces');
  }
  return raw;
}

/** A comma-separated CIDR list; every entry must parse. */
function readCidrList(env: Env, name: string): readonly string[] {
  const raw = readOptional(env, name);
  if (raw === null) return Object.freeze([]);
  const list = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const invalid = invalidCidrs(list);
  if (invalid.length > 0) {
    throw new ConfigError(name, `not a CIDR or address: ${invalid.join(', ')} (e.g. 10.0.0.0/8,::1)`);
  }
  return Object.freeze(list);
}

/** Reads and validates the configuration. Throws {@link ConfigError} naming the bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = readOptional(env, 'DATABASE_URL');
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'only postgres:// URLs are supported (leave unset for SQLite)');
  }
  const logLevel = (env.WARDEN_LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('WARDEN_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const secretKey = readOptional(env, 'WARDEN_SECRET_KEY');
  if (secretKey !== null && secretKey.length < 32) {
    throw new ConfigError('WARDEN_SECRET_KEY', 'must be at least 32 characters');
  }
  const mqttsPort = readPort(env, 'WARDEN_MQTTS_PORT', 0);
  const mqttTlsCertPath = readOptional(env, 'WARDEN_MQTT_TLS_CERT');
  const mqttTlsKeyPath = readOptional(env, 'WARDEN_MQTT_TLS_KEY');
  if (mqttsPort !== 0 && (mqttTlsCertPath === null || mqttTlsKeyPath === null)) {
    throw new ConfigError('WARDEN_MQTTS_PORT', 'needs WARDEN_MQTT_TLS_CERT and WARDEN_MQTT_TLS_KEY');
  }
  return Object.freeze({
    httpPort: readPort(env, 'WARDEN_HTTP_PORT', 8080),
    httpHost: env.WARDEN_HTTP_HOST || '0.0.0.0',
    dataDir: path.resolve(env.WARDEN_DATA_DIR || './data'),
    databaseUrl,
    adminPassword: readOptional(env, 'WARDEN_ADMIN_PASSWORD'),
    secretKey,
    mqttPort: readPort(env, 'WARDEN_MQTT_PORT', 1883),
    mqttPortIsDefault: env.WARDEN_MQTT_PORT === undefined || env.WARDEN_MQTT_PORT === '',
    mqttHost: env.WARDEN_MQTT_HOST || '0.0.0.0',
    mqttsPort,
    mqttTlsCertPath,
    mqttTlsKeyPath,
    mqttMaxPacketBytes: readPacketBytes(env, 'WARDEN_MQTT_MAX_PACKET_BYTES'),
    logLevel,
    trustProxy: readBoolean(env, 'WARDEN_TRUST_PROXY'),
    instanceId: readInstanceId(env),
    redisUrl: readRedisUrl(env, 'WARDEN_REDIS_URL'),
    redisPrefix: readRedisPrefix(env, 'WARDEN_REDIS_PREFIX'),
    metricsAllowFrom: readCidrList(env, 'WARDEN_METRICS_ALLOW_FROM'),
  });
}
