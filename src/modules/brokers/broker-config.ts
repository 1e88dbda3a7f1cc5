import { Value } from 'typebox/value';
import type { SecretBox } from '../../core/crypto/secret-box.js';
import { parseWith } from '../../core/validation.js';
import type { BrokerIntegration, BrokerKind } from '../../integrations/broker-integration.js';
import { getPath, type KindBuildDeps, type StoredConfig, setPath } from '../../integrations/broker-kind.js';
import { BROKER_KIND_DEFINITIONS, kindDefinition } from '../../integrations/broker-kinds.js';
import { brokerError } from './brokers.errors.js';

export type { StoredConfig };

const sealContext = (id: string, path: string): string => `broker:${id}:${path}`;

/** Settings with the kind's defaults filled in (also for settings stored before a later release added one). */
function withDefaults(kind: BrokerKind, config: StoredConfig): StoredConfig {
  return Value.Default(kindDefinition(kind).schema, structuredClone(config)) as StoredConfig;
}

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
  const definition = kindDefinition(kind);
  const invalid = (errors: Array<{ pointer?: string; message: string }>) =>
    brokerError('broker.invalid_config', `Invalid settings for a ${kind} integration`, {
      errors: errors.map((error) => ({
        ...error,
        pointer: `/config${error.pointer === '/' || error.pointer === undefined ? '' : error.pointer}`,
      })),
    });
  const input = parseWith(definition.schema, options.input, invalid) as StoredConfig;
  const config = withDefaults(kind, input);
  for (const path of definition.secretPaths) {
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
  const errors = definition.validate(config, input);
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
  for (const path of kindDefinition(kind).secretPaths) {
    if (getPath(config, path) === undefined) continue;
    secrets.push(path);
    setPath(config, path, undefined);
  }
  return { config, secrets };
}

/** The secret paths (of any kind) a settings document carries in clear (the CLI refuses them inline). */
export function secretsGiven(input: unknown): string[] {
  if (typeof input !== 'object' || input === null) return [];
  const paths = new Set(
    Object.values(BROKER_KIND_DEFINITIONS).flatMap((definition) => definition.secretPaths),
  );
  return [...paths].filter((path) => typeof getPath(input as StoredConfig, path) === 'string');
}

/**
 * Opens stored settings into the kind's runtime settings. A secret that no longer opens (WARDEN_SECRET_KEY
 * changed) is an error naming the field, never a silent empty password.
 */
export function openConfig<Settings = unknown>(options: {
  kind: BrokerKind;
  id: string;
  stored: StoredConfig;
  box: SecretBox;
}): Settings {
  const { kind, id, box } = options;
  const stored = withDefaults(kind, options.stored);
  const secret = (path: string): string | null => {
    const sealed = getPath(stored, path);
    if (typeof sealed !== 'string') return null;
    const opened = box.open(sealed, sealContext(id, path));
    if (opened === null)
      throw new Error(`cannot open the stored ${path}: was WARDEN_SECRET_KEY changed? Set it again`);
    return Buffer.from(opened).toString('utf8');
  };
  return kindDefinition(kind).open(stored, secret) as Settings;
}

/** The adapter of an integration from its stored settings (not started). */
export function buildIntegration(options: {
  kind: BrokerKind;
  stored: StoredConfig;
  box: SecretBox;
  deps: KindBuildDeps;
}): BrokerIntegration {
  const { kind, stored, box, deps } = options;
  return kindDefinition(kind).create(openConfig({ kind, id: deps.id, stored, box }), deps);
}
