import type { SecretBox } from '../../core/crypto/secret-box.js';
import type { ProblemItem } from '../../core/errors/app-error.js';
import { parseWith } from '../../core/validation.js';
import type { BrokerKind } from '../../integrations/broker-integration.js';
import type { EmqxSettings } from '../../integrations/emqx/emqx-integration.js';
import type { GoAuthSettings } from '../../integrations/go-auth/go-auth-integration.js';
import { LOOPBACK_CIDRS, parseCidr } from '../../integrations/hooks/hook-access.js';
import type { HookSettings } from '../../integrations/hooks/hook-integration.js';
import type { MosquittoConfig } from '../../integrations/mosquitto-dynsec/mosquitto-integration.js';
import type { VernemqSettings } from '../../integrations/vernemq/vernemq-integration.js';
import { brokerError } from './brokers.errors.js';
import { CONFIG_SCHEMAS } from './brokers.schemas.js';

/** A kind's settings as stored: JSON with defaults applied and every secret sealed in place. */
export type StoredConfig = Record<string, unknown>;

/** Where each kind keeps its secrets (dotted paths into the config). */
const SECRET_PATHS: Readonly<Record<BrokerKind, readonly string[]>> = {
  mosquitto: ['adminPassword'],
  emqx: ['apiSecret', 'hook.token', 'hook.basic.password'],
  'go-auth': ['hook.token', 'hook.basic.password'],
  vernemq: ['hook.token', 'hook.basic.password'],
};

/**
 * The secret fields that `input` (settings of any kind) sets to a value, by dotted path; `null`, which removes
 * one, is not a secret. The CLI refuses them on its command line.
 */
export function secretsGiven(input: unknown): string[] {
  if (typeof input !== 'object' || input === null) return [];
  const paths = new Set(Object.values(SECRET_PATHS).flat());
  return [...paths].filter((path) => typeof getPath(input as StoredConfig, path) === 'string');
}

/** A hook token must resist guessing: at least this many characters. */
const MIN_TOKEN_LENGTH = 16;
const EMQX_TIMEOUT_MS = 5_000;
export const HOOK_RATE_DEFAULTS = { ratePerSecond: 50_000, burst: 100_000 } as const;

function getPath(config: StoredConfig, path: string): unknown {
  let value: unknown = config;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function setPath(config: StoredConfig, path: string, value: unknown): void {
  const keys = path.split('.');
  let target = config;
  for (const key of keys.slice(0, -1)) {
    const next = target[key];
    if (typeof next !== 'object' || next === null) return;
    target = next as Record<string, unknown>;
  }
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete target[last];
  else target[last] = value;
}

function withDefaults(kind: BrokerKind, input: Record<string, unknown>): StoredConfig {
  const config = structuredClone(input);
  if (kind === 'mosquitto') {
    config.clientIdBinding ??= 'none';
    config.timeoutMs ??= 5_000;
    config.rejectUnauthorized ??= true;
    return config;
  }
  const hook = (config.hook ?? {}) as Record<string, unknown>;
  hook.allowFrom ??= [...LOOPBACK_CIDRS];
  hook.ratePerSecond ??= HOOK_RATE_DEFAULTS.ratePerSecond;
  hook.burst ??= HOOK_RATE_DEFAULTS.burst;
  config.hook = hook;
  if (kind === 'emqx') {
    config.authnAcl ??= false;
    config.unknownUser ??= 'deny';
  } else if (kind === 'go-auth') {
    config.responseMode ??= 'status';
  } else {
    config.unknownUser ??= 'deny';
  }
  return config;
}

function validUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** Checks what the schema cannot: URLs, CIDRs, token strength, secrets required together. */
function semanticErrors(
  kind: BrokerKind,
  config: StoredConfig,
  input: Record<string, unknown>,
): ProblemItem[] {
  const errors: ProblemItem[] = [];
  const require = (path: string, message: string): void => {
    if (getPath(config, path) === undefined)
      errors.push({ pointer: `/config/${path.replaceAll('.', '/')}`, message });
  };
  if (kind === 'mosquitto') {
    if (!validUrl(config.url))
      errors.push({ pointer: '/config/url', message: 'must be a URL like mqtt://host:1883' });
    require('adminPassword', 'is required');
    return errors;
  }
  const hook = config.hook as Record<string, unknown>;
  for (const [index, cidr] of ((hook.allowFrom as string[]) ?? []).entries()) {
    if (!parseCidr(cidr))
      errors.push({ pointer: `/config/hook/allowFrom/${index}`, message: `not a CIDR: ${cidr}` });
  }
  const token = getPath(input, 'hook.token');
  if (typeof token === 'string' && token.length < MIN_TOKEN_LENGTH) {
    errors.push({
      pointer: '/config/hook/token',
      message: `must be at least ${MIN_TOKEN_LENGTH} characters`,
    });
  }
  if (hook.basic !== undefined) require('hook.basic.password', 'is required with basic');
  if (kind === 'emqx' && config.managementUrl !== undefined) {
    if (!validUrl(config.managementUrl)) {
      errors.push({ pointer: '/config/managementUrl', message: 'must be a URL like http://emqx:18083' });
    }
    require('apiKey', 'is required with managementUrl');
    require('apiSecret', 'is required with managementUrl');
  }
  return errors;
}

const sealContext = (id: string, path: string): string => `broker:${id}:${path}`;

/**
 * Validates a kind's settings from the API or CLI and returns what is stored: defaults applied, new secrets
 * sealed (bound to the integration id and the field), omitted secrets kept from `previous`, `null` secrets
 * removed. Every problem is reported at once as `broker.invalid_config`.
 */
export function prepareConfig(options: {
  kind: BrokerKind;
  id: string;
  input: unknown;
  previous: StoredConfig | null;
  box: SecretBox;
}): StoredConfig {
  const { kind, id, box } = options;
  const input = parseWith(CONFIG_SCHEMAS[kind], options.input, (errors) =>
    brokerError('broker.invalid_config', `Invalid settings for a ${kind} integration`, {
      errors: errors.map((error) => ({
        ...error,
        pointer: `/config${error.pointer === '/' ? '' : error.pointer}`,
      })),
    }),
  ) as Record<string, unknown>;
  const config = withDefaults(kind, input);
  for (const path of SECRET_PATHS[kind]) {
    const given = getPath(input, path);
    if (typeof given === 'string') {
      setPath(config, path, box.seal(Buffer.from(given, 'utf8'), sealContext(id, path)));
    } else if (given === null) {
      setPath(config, path, undefined);
    } else {
      const kept = options.previous ? getPath(options.previous, path) : undefined;
      setPath(config, path, typeof kept === 'string' ? kept : undefined);
    }
  }
  const errors = semanticErrors(kind, config, input);
  if (errors.length > 0) {
    throw brokerError('broker.invalid_config', `Invalid settings for a ${kind} integration`, { errors });
  }
  return config;
}

/** The settings as the API shows them: secrets removed, and which of them are set. */
export function publicConfig(
  kind: BrokerKind,
  stored: StoredConfig,
): { config: StoredConfig; secrets: string[] } {
  const config = structuredClone(stored);
  const secrets: string[] = [];
  for (const path of SECRET_PATHS[kind]) {
    if (getPath(config, path) === undefined) continue;
    secrets.push(path);
    setPath(config, path, undefined);
  }
  return { config, secrets };
}

/** Runtime settings of one integration, secrets opened. */
export type OpenedConfig =
  | { readonly kind: 'mosquitto'; readonly config: MosquittoConfig }
  | { readonly kind: 'emqx'; readonly settings: EmqxSettings }
  | { readonly kind: 'go-auth'; readonly settings: GoAuthSettings }
  | { readonly kind: 'vernemq'; readonly settings: VernemqSettings };

/**
 * Opens the stored settings for an adapter. A secret that no longer opens (WARDEN_SECRET_KEY changed) is an
 * error naming the field, never a silent empty password.
 */
export function openConfig(options: {
  kind: BrokerKind;
  id: string;
  stored: StoredConfig;
  box: SecretBox;
}): OpenedConfig {
  const { kind, id, stored, box } = options;
  const secret = (path: string): string | null => {
    const sealed = getPath(stored, path);
    if (typeof sealed !== 'string') return null;
    const opened = box.open(sealed, sealContext(id, path));
    if (opened === null)
      throw new Error(`cannot open the stored ${path}: was WARDEN_SECRET_KEY changed? Set it again`);
    return Buffer.from(opened).toString('utf8');
  };
  const text = (path: string): string => String(getPath(stored, path) ?? '');
  if (kind === 'mosquitto') {
    return {
      kind,
      config: {
        url: text('url'),
        adminUsername: text('adminUsername'),
        adminPassword: secret('adminPassword') ?? '',
        clientIdBinding: getPath(stored, 'clientIdBinding') === 'username' ? 'username' : 'none',
        timeoutMs: Number(getPath(stored, 'timeoutMs') ?? 5_000),
        rejectUnauthorized: getPath(stored, 'rejectUnauthorized') !== false,
      },
    };
  }
  const basicUsername = getPath(stored, 'hook.basic.username');
  const basicPassword = secret('hook.basic.password');
  const hook: HookSettings = {
    access: {
      token: secret('hook.token'),
      basic:
        typeof basicUsername === 'string' && basicPassword !== null
          ? { username: basicUsername, password: basicPassword }
          : null,
      allowFrom: (getPath(stored, 'hook.allowFrom') as string[] | undefined) ?? [...LOOPBACK_CIDRS],
    },
    ratePerSecond: Number(getPath(stored, 'hook.ratePerSecond') ?? HOOK_RATE_DEFAULTS.ratePerSecond),
    burst: Number(getPath(stored, 'hook.burst') ?? HOOK_RATE_DEFAULTS.burst),
  };
  if (kind === 'emqx') {
    const apiSecret = secret('apiSecret');
    const url = getPath(stored, 'managementUrl');
    return {
      kind,
      settings: {
        hook,
        authnAcl: getPath(stored, 'authnAcl') === true,
        unknownUser: getPath(stored, 'unknownUser') === 'ignore' ? 'ignore' : 'deny',
        management:
          typeof url === 'string' && apiSecret !== null
            ? { url, apiKey: text('apiKey'), apiSecret, timeoutMs: EMQX_TIMEOUT_MS }
            : null,
      },
    };
  }
  if (kind === 'go-auth') {
    const mode = getPath(stored, 'responseMode');
    return { kind, settings: { hook, responseMode: mode === 'json' || mode === 'text' ? mode : 'status' } };
  }
  return {
    kind,
    settings: { hook, unknownUser: getPath(stored, 'unknownUser') === 'next' ? 'next' : 'deny' },
  };
}
