import { type TObject, type TSchema, Type } from 'typebox';
import type { ProblemItem } from '../core/errors/app-error.js';
import type {
  BrokerIntegration,
  BrokerKind,
  IntegrationContext,
  WardenDirectory,
} from './broker-integration.js';
import type { HookServices } from './hooks/hook-integration.js';
import type { PasswordLedger } from './mosquitto-dynsec/mosquitto-integration.js';

/** A kind's settings as stored: JSON with defaults applied and every secret sealed in place. */
export type StoredConfig = Record<string, unknown>;

/** What a kind's adapter is built from, besides its own settings. */
export interface KindBuildDeps {
  /** The integration's id (sync adapters key their bookkeeping on it). */
  readonly id: string;
  readonly name: string;
  /**
   * Whether the adapter performs its broker's outbound duties (EMQX purges and kicks): true only on the instance
   * that holds the duties; hook answering runs everywhere.
   */
  readonly duties: boolean;
  readonly directory: WardenDirectory;
  readonly ledger: PasswordLedger;
  readonly hookServices: HookServices;
  readonly context: IntegrationContext;
}

/**
 * Everything Warden knows about one kind of broker, in the kind's own folder: a new kind is one more folder
 * (and one line in src/integrations/broker-kinds.ts). The brokers module validates, stores, opens and builds
 * integrations through these definitions only.
 */
export interface BrokerKindDefinition<Settings = unknown, Schema extends TObject = TObject> {
  readonly kind: BrokerKind;
  /**
   * The settings as the API takes them. Its `default`s are the defaults (applied when stored, shown in the
   * OpenAPI document, read by the console); `x-broker-kind` names the kind in the document.
   */
  readonly schema: Schema;
  /** Dotted paths of the write-only secrets: sealed at rest, never returned, kept when omitted. */
  readonly secretPaths: readonly string[];
  /**
   * What the schema cannot check (URLs, networks, token strength, secrets required together), on the settings
   * with defaults and secrets resolved (`config`: stored or newly given) and on what was sent (`input`).
   */
  validate(config: StoredConfig, input: StoredConfig): ProblemItem[];
  /**
   * The runtime settings from stored ones. `secret` opens a sealed secret (null when not set); it throws when
   * one no longer opens, naming the field, so a changed key never becomes a silent empty password.
   */
  open(config: StoredConfig, secret: (path: string) => string | null): Settings;
  /** Builds the (not yet started) adapter. */
  create(settings: Settings, deps: KindBuildDeps): BrokerIntegration;
}

/** A definition with its settings type erased, as the registry holds them. */
// biome-ignore lint/suspicious/noExplicitAny: each definition's settings type is its own; the registry pairs open() with create() of the same definition.
export type AnyBrokerKindDefinition = BrokerKindDefinition<any>;

/** The value at a dotted path of a settings object, or undefined. */
export function getPath(config: StoredConfig, path: string): unknown {
  let value: unknown = config;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Sets (or with `undefined` deletes) the value at a dotted path whose parent objects exist. */
export function setPath(config: StoredConfig, path: string, value: unknown): void {
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

/** A write-only secret: sent to set it, omitted to keep the stored one; never returned. */
export function writeOnlySecret(description: string): TSchema {
  return Type.String({
    minLength: 1,
    maxLength: 1024,
    description: `${description} (write-only: omit to keep)`,
  });
}

/** An optional write-only secret: additionally `null` removes it. */
export function clearableSecret(description: string): TSchema {
  return Type.Union([writeOnlySecret(description), Type.Null()], {
    description: `${description} (write-only: omit to keep, null to remove)`,
  });
}

/** Whether `value` parses as an absolute URL. */
export function isUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** A problem for each of `paths` that has no value in `config` (`/config/a/b` pointers). */
export function requireValues(
  config: StoredConfig,
  paths: readonly string[],
  message: string,
): ProblemItem[] {
  return paths
    .filter((path) => getPath(config, path) === undefined)
    .map((path) => ({ pointer: `/config/${path.replaceAll('.', '/')}`, message }));
}
