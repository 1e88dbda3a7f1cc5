import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import type { SecuritySettings } from '../../modules/settings/settings.schemas.js';
import type { Services } from '../../services.js';
import { defineGroup, parse, requirePositional } from '../args.js';
import { type CliIo, emit, UsageError } from '../output.js';
import { groupUsage } from '../usage.js';

export const SETTINGS = defineGroup('settings', 'read and change the security settings', {
  get: {
    args: '[security | <key>]',
    summary: 'print every security setting, or one by its key',
    notes: ['Keys are dotted: passwordPolicy.minLength, throttle.windowMinutes, mqtt.denyAction, …'],
  },
  set: {
    args: '<key> <value>',
    summary: 'change one security setting, validated like the API',
    notes: [
      'Lists are comma-separated, "none" empties them; flags take true/false, yes/no, on/off or 1/0.',
      'Examples: warden settings set passwordPolicy.minLength 12',
      '          warden settings set mfaRequiredRoles admin,operator',
      '          warden settings set mqtt.denyAction disconnect   (or ignore: acknowledge and drop)',
      '"warden settings get" lists every key.',
    ],
  },
});

const GROUP = 'security';

type Leaf = number | boolean | string | readonly string[];

/** `passwordPolicy.minLength` → 8, … : every setting by its dotted key, in document order. */
function flatten(value: object, prefix = ''): Array<[string, Leaf]> {
  return Object.entries(value).flatMap(([key, inner]): Array<[string, Leaf]> => {
    const path = prefix ? `${prefix}.${key}` : key;
    return inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? flatten(inner as object, path)
      : [[path, inner as Leaf]];
  });
}

function show(value: Leaf): string {
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(',');
  return String(value);
}

/**
 * Reads a command-line value as the type the setting has now. A value that does not convert is passed on as
 * text, so the settings schema refuses it with the same `settings.invalid` problem as the API would.
 */
function convert(current: Leaf, raw: string): unknown {
  if (Array.isArray(current)) {
    if (raw.trim() === '' || raw.trim().toLowerCase() === 'none') return [];
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  }
  if (typeof current === 'number')
    return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (typeof current === 'boolean') {
    const lower = raw.toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(lower)) return true;
    if (['false', 'no', 'off', '0'].includes(lower)) return false;
  }
  return raw;
}

/** A copy of `document` with the dotted `key` replaced by `value`. */
function withValue(document: SecuritySettings, key: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(document) as unknown as Record<string, unknown>;
  const path = key.split('.');
  let node = copy;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string, unknown>;
  node[path.at(-1) as string] = value;
  return copy;
}

/** `warden settings`: read and change the security settings through the same validation and audit as the API. */
export async function settingsCommand(
  services: Services,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = argv;
  const current = await services.settings.getSecurity();
  const leaves = new Map(flatten(current));
  const knownKey = (key: string): Leaf => {
    const value = leaves.get(key);
    if (value === undefined) {
      throw new UsageError(`unknown setting "${key}"; one of:\n  ${[...leaves.keys()].join('\n  ')}`);
    }
    return value;
  };
  switch (sub) {
    case 'get': {
      const { positionals, json } = parse(rest, SETTINGS.subcommands.get);
      const key = positionals[0];
      if (key === undefined || key === GROUP) {
        emit(io, json, current, () => [...leaves].map(([k, v]) => `${k} = ${show(v)}\n`).join(''));
        return 0;
      }
      const value = knownKey(key);
      emit(io, json, { [key]: value }, () => `${show(value)}\n`);
      return 0;
    }
    case 'set': {
      const { positionals, json } = parse(rest, SETTINGS.subcommands.set);
      const key = requirePositional(positionals, 0, 'key');
      const raw = requirePositional(positionals, 1, 'value');
      const before = knownKey(key);
      const saved = await services.settings.putSecurity(
        CLI_CONTEXT,
        withValue(current, key, convert(before, raw)),
      );
      const after = new Map(flatten(saved)).get(key) as Leaf;
      emit(io, json, { [key]: after }, () => `${key}: ${show(before)} -> ${show(after)}\n`);
      return 0;
    }
    default:
      throw new UsageError(groupUsage(SETTINGS));
  }
}
