// With an extension: test/console checks this module against the server's validation under Node's resolution.
import { BROKER_CONFIG_DEFAULTS } from '../../api/defaults.js';
import type { Broker, BrokerKind, CreateBrokerBody } from '../../api/types.js';

export const BROKER_KINDS = [
  'mosquitto',
  'emqx',
  'go-auth',
  'vernemq',
] as const satisfies readonly BrokerKind[];
/** The server's defaults, generated from its OpenAPI document (never re-declared here). */
const MOSQUITTO = BROKER_CONFIG_DEFAULTS.mosquitto;
const HOOK = BROKER_CONFIG_DEFAULTS.emqx.hook;
export const MIN_TOKEN_LENGTH = 16;
const NAME_PATTERN = /^[A-Za-z0-9_.-]{3,50}$/;

/**
 * A write-only secret in the form. The API never returns secrets, only which are set: an empty `value` keeps
 * the stored one, a typed value replaces it, `remove` (clearable secrets only) deletes it.
 */
export interface SecretDraft {
  readonly value: string;
  readonly remove: boolean;
}

export interface BrokerDraft {
  readonly name: string;
  readonly kind: BrokerKind;
  readonly enabled: boolean;
  // Mosquitto (dynamic security)
  readonly url: string;
  readonly adminUsername: string;
  readonly adminPassword: SecretDraft;
  readonly clientIdBinding: 'none' | 'username';
  readonly timeoutMs: number;
  readonly rejectUnauthorized: boolean;
  // Hook access (EMQX, go-auth, VerneMQ)
  readonly token: SecretDraft;
  readonly basicUsername: string;
  readonly basicPassword: SecretDraft;
  readonly allowFrom: readonly string[];
  readonly ratePerSecond: number;
  readonly burst: number;
  // EMQX
  readonly managementUrl: string;
  readonly apiKey: string;
  readonly apiSecret: SecretDraft;
  readonly authnAcl: boolean;
  readonly emqxUnknownUser: 'deny' | 'ignore';
  // mosquitto-go-auth
  readonly responseMode: 'status' | 'json' | 'text';
  // VerneMQ
  readonly vernemqUnknownUser: 'deny' | 'next';
}

/** Form fields are keyed like the API's error pointers below `/config` (`hook.token` ⇔ `/config/hook/token`). */
export type FieldKey =
  | 'name'
  | 'url'
  | 'adminUsername'
  | 'adminPassword'
  | 'timeoutMs'
  | 'hook.token'
  | 'hook.basic.username'
  | 'hook.basic.password'
  | 'hook.allowFrom'
  | 'hook.ratePerSecond'
  | 'hook.burst'
  | 'managementUrl'
  | 'apiKey'
  | 'apiSecret';

/** Why a field is refused before sending; the UI words each reason. */
export type FieldProblem = 'required' | 'name' | 'url' | 'mqttUrl' | 'tokenLength' | 'cidr' | 'invalid';

const KEEP: SecretDraft = { value: '', remove: false };

type Config = Readonly<Record<string, unknown>>;
const text = (config: Config, key: string, fallback = ''): string =>
  typeof config[key] === 'string' ? (config[key] as string) : fallback;
const number = (config: Config, key: string, fallback: number): number =>
  typeof config[key] === 'number' ? (config[key] as number) : fallback;
const object = (config: Config, key: string): Config =>
  typeof config[key] === 'object' && config[key] !== null ? (config[key] as Config) : {};

/** The form's starting values: an existing integration's settings, or the server's defaults for a new one. */
export function draftOf(broker: Broker | null, kind: BrokerKind = 'mosquitto'): BrokerDraft {
  const config: Config = broker?.config ?? {};
  const hook = object(config, 'hook');
  const basic = object(hook, 'basic');
  const allowFrom = Array.isArray(hook.allowFrom) ? hook.allowFrom.map(String) : [...HOOK.allowFrom];
  return {
    name: broker?.name ?? '',
    kind: broker?.kind ?? kind,
    enabled: broker?.enabled ?? true,
    url: text(config, 'url'),
    adminUsername: text(config, 'adminUsername', broker ? '' : 'warden-sync'),
    adminPassword: KEEP,
    clientIdBinding: config.clientIdBinding === 'username' ? 'username' : MOSQUITTO.clientIdBinding,
    timeoutMs: number(config, 'timeoutMs', MOSQUITTO.timeoutMs),
    rejectUnauthorized:
      typeof config.rejectUnauthorized === 'boolean'
        ? config.rejectUnauthorized
        : MOSQUITTO.rejectUnauthorized,
    token: KEEP,
    basicUsername: text(basic, 'username'),
    basicPassword: KEEP,
    allowFrom,
    ratePerSecond: number(hook, 'ratePerSecond', HOOK.ratePerSecond),
    burst: number(hook, 'burst', HOOK.burst),
    managementUrl: text(config, 'managementUrl'),
    apiKey: text(config, 'apiKey'),
    apiSecret: KEEP,
    authnAcl: typeof config.authnAcl === 'boolean' ? config.authnAcl : BROKER_CONFIG_DEFAULTS.emqx.authnAcl,
    emqxUnknownUser: config.unknownUser === 'ignore' ? 'ignore' : BROKER_CONFIG_DEFAULTS.emqx.unknownUser,
    responseMode:
      config.responseMode === 'json' || config.responseMode === 'text'
        ? config.responseMode
        : BROKER_CONFIG_DEFAULTS['go-auth'].responseMode,
    vernemqUnknownUser: config.unknownUser === 'next' ? 'next' : BROKER_CONFIG_DEFAULTS.vernemq.unknownUser,
  };
}

/** A secret as the API takes it: omitted to keep, the new value, or `null` to remove. */
function secretValue(secret: SecretDraft): string | null | undefined {
  if (secret.remove) return null;
  return secret.value === '' ? undefined : secret.value;
}

/** Drops `undefined` members so omitted secrets are really omitted from the JSON. */
function defined<T extends Record<string, unknown>>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

function hookConfigOf(draft: BrokerDraft): Record<string, unknown> {
  const basicPassword = secretValue(draft.basicPassword);
  return defined({
    token: secretValue(draft.token),
    basic:
      draft.basicUsername.trim() === ''
        ? undefined
        : defined({ username: draft.basicUsername.trim(), password: basicPassword ?? undefined }),
    allowFrom: [...draft.allowFrom],
    ratePerSecond: draft.ratePerSecond,
    burst: draft.burst,
  });
}

/** The `config` the API expects for the draft's kind (only that kind's fields). */
export function configOf(draft: BrokerDraft): CreateBrokerBody['config'] {
  switch (draft.kind) {
    case 'mosquitto':
      return defined({
        url: draft.url.trim(),
        adminUsername: draft.adminUsername.trim(),
        adminPassword: secretValue(draft.adminPassword) ?? undefined,
        clientIdBinding: draft.clientIdBinding,
        timeoutMs: draft.timeoutMs,
        rejectUnauthorized: draft.rejectUnauthorized,
      });
    case 'emqx': {
      const managed = draft.managementUrl.trim() !== '';
      return defined({
        hook: hookConfigOf(draft),
        managementUrl: managed ? draft.managementUrl.trim() : undefined,
        apiKey: managed && draft.apiKey.trim() !== '' ? draft.apiKey.trim() : undefined,
        apiSecret: managed ? secretValue(draft.apiSecret) : null,
        authnAcl: draft.authnAcl,
        unknownUser: draft.emqxUnknownUser,
      });
    }
    case 'go-auth':
      return { hook: hookConfigOf(draft), responseMode: draft.responseMode };
    case 'vernemq':
      return { hook: hookConfigOf(draft), unknownUser: draft.vernemqUnknownUser };
  }
}

function isUrl(value: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

const IPV4_CIDR = /^(\d{1,3})(\.\d{1,3}){3}(\/\d{1,2})?$/;
const IPV6_CIDR = /^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(\/\d{1,3})?$/;

/**
 * What the form can tell before sending: the problems a person fixes while typing. The server checks
 * everything again (and more) and its problems are shown on the same fields.
 */
export function draftProblems(
  draft: BrokerDraft,
  stored: ReadonlySet<string>,
  creating: boolean,
): Map<FieldKey, FieldProblem> {
  const problems = new Map<FieldKey, FieldProblem>();
  const has = (secret: SecretDraft, path: string) =>
    !secret.remove && (secret.value !== '' || stored.has(path));
  if (creating && !NAME_PATTERN.test(draft.name)) problems.set('name', 'name');
  if (draft.kind === 'mosquitto') {
    if (!isUrl(draft.url.trim(), ['mqtt:', 'mqtts:'])) problems.set('url', 'mqttUrl');
    if (draft.adminUsername.trim() === '') problems.set('adminUsername', 'required');
    if (!has(draft.adminPassword, 'adminPassword')) problems.set('adminPassword', 'required');
    return problems;
  }
  if (draft.token.value !== '' && draft.token.value.length < MIN_TOKEN_LENGTH)
    problems.set('hook.token', 'tokenLength');
  if (draft.basicUsername.trim() !== '' && !has(draft.basicPassword, 'hook.basic.password'))
    problems.set('hook.basic.password', 'required');
  if (draft.allowFrom.some((cidr) => !IPV4_CIDR.test(cidr) && !IPV6_CIDR.test(cidr)))
    problems.set('hook.allowFrom', 'cidr');
  if (draft.kind === 'emqx' && draft.managementUrl.trim() !== '') {
    if (!isUrl(draft.managementUrl.trim(), ['http:', 'https:'])) problems.set('managementUrl', 'url');
    if (draft.apiKey.trim() === '') problems.set('apiKey', 'required');
    if (!has(draft.apiSecret, 'apiSecret')) problems.set('apiSecret', 'required');
  }
  return problems;
}

/** The fields a refused save names (`errors[].pointer` of 400 broker.invalid_config), as form keys. */
export function fieldsOfPointers(pointers: readonly (string | undefined)[]): Set<string> {
  const fields = new Set<string>();
  for (const pointer of pointers) {
    if (!pointer?.startsWith('/config/')) continue;
    const path = pointer.slice('/config/'.length).split('/');
    // `/config/hook/allowFrom/2` names the list, not its third entry.
    const key = path.filter((part) => !/^\d+$/.test(part)).join('.');
    fields.add(key);
  }
  return fields;
}

/** A fresh hook token: 32 random bytes, base64url (43 characters), from the browser's CSPRNG. */
export function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}
