import fs from 'node:fs';
import { parseWith } from '../../core/validation.js';
import type { SyncReport } from '../../integrations/broker-integration.js';
import { secretsGiven } from '../../modules/brokers/broker-config.js';
import {
  CreateBrokerBody,
  type PublicBroker,
  UpdateBrokerBody,
} from '../../modules/brokers/brokers.schemas.js';
import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import type { Services } from '../../services.js';
import { defineGroup, type OptionSpec, optionalString, parse, requirePositional } from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';
import { groupUsage } from '../usage.js';

const CONFIG_OPTIONS = {
  'config-file': {
    type: 'string',
    value: 'F',
    description: 'the settings as a JSON file (mode 0600: it holds secrets); "-" reads stdin',
  },
  config: {
    type: 'string',
    value: 'JSON',
    description: 'the settings inline, without secrets (the command line is visible in ps)',
  },
} as const satisfies Record<string, OptionSpec>;

export const BROKERS = defineGroup('brokers', 'external broker integrations, see docs/brokers.md', {
  list: { summary: 'list the broker integrations' },
  add: {
    args: '<name>',
    summary: 'add a broker integration',
    options: {
      kind: {
        type: 'string',
        value: 'mosquitto|emqx|go-auth|vernemq',
        description: 'the kind of broker',
        required: true,
      },
      ...CONFIG_OPTIONS,
      disabled: { type: 'boolean', description: 'add it switched off' },
    },
    notes: ['Give one of --config-file, --config. The settings per kind are in docs/brokers.md.'],
  },
  update: {
    args: '<name>',
    summary: "replace an integration's settings, or switch it on or off",
    options: {
      ...CONFIG_OPTIONS,
      enable: { type: 'boolean', description: 'switch it on' },
      disable: { type: 'boolean', description: 'switch it off' },
    },
    notes: [
      'Secrets left out of the settings are kept; null removes an optional one ({"hook":{"token":null}}).',
      'Without settings only --enable / --disable change.',
    ],
  },
  remove: { args: '<name>', summary: 'remove an integration (the broker keeps what was synced)' },
  status: { args: '<name>', summary: "an integration's state: running, connected, last sync and error" },
  sync: {
    args: '<name>',
    summary: "full reconcile: Mosquitto's diff, EMQX's cache purge",
    options: { 'dry-run': { type: 'boolean', description: 'only print what would change' } },
  },
});

const BROKER_COLUMNS = ['name', 'kind', 'enabled', 'secrets', 'updatedAt'];

/**
 * The settings JSON from `--config-file` (a path, or `-` for stdin) or `--config`; undefined when neither.
 * `--config` must not carry a secret: the command line is visible in `ps` and stays in the shell history.
 */
async function configFrom(values: Record<string, unknown>, io: CliIo): Promise<unknown> {
  const file = optionalString(values, 'config-file');
  const inline = optionalString(values, 'config');
  if (file !== undefined && inline !== undefined)
    throw new UsageError('give one of --config-file, --config, not both');
  if (file === undefined && inline === undefined) return undefined;
  let text = inline ?? '';
  if (file === '-') {
    for await (const chunk of io.stdin) text += String(chunk);
  } else if (file !== undefined) {
    text = fs.readFileSync(file, 'utf8');
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the configuration is not JSON: ${(error as Error).message}`);
  }
  const secrets = inline === undefined ? [] : secretsGiven(config);
  if (secrets.length > 0) {
    throw new UsageError(
      `--config must not hold secrets (${secrets.join(', ')}): the command line is visible to other users (ps) ` +
        'and stays in the shell history. Put the settings in a file (mode 0600) and pass --config-file, or ' +
        'pipe them in with --config-file -',
    );
  }
  return config;
}

/** The diff for people: one line per change, then the exact requests (secrets are never part of a plan). */
export function describeReport(report: SyncReport): string {
  const lines = [
    `${report.dryRun ? 'Would apply' : 'Applied'} ${report.changes.length} change(s) on ${report.integration}`,
  ];
  for (const change of report.changes) {
    lines.push(`  ${change.action} ${change.target} ${change.name}: ${change.detail}`);
    for (const request of change.requests) lines.push(`      ${JSON.stringify(request)}`);
  }
  if (report.warnings.length > 0) {
    lines.push('Not mirrored exactly (see docs/brokers.md, "Documented differences"):');
    for (const warning of report.warnings) lines.push(`  - ${warning}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `--enable` / `--disable` as the `enabled` of an update (neither: unchanged). */
function enabledFrom(values: Record<string, unknown>): { enabled?: boolean } {
  if (values.enable === true && values.disable === true)
    throw new UsageError('give one of --enable, --disable, not both');
  if (values.enable === true) return { enabled: true };
  if (values.disable === true) return { enabled: false };
  return {};
}

/** `warden brokers …`: the same service, validation and audit (actor `cli`) as `/api/v1/brokers`. */
export async function brokersCommand(
  services: Services,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = argv;
  const { brokers } = services;
  const specs = BROKERS.subcommands;
  switch (sub) {
    case 'list': {
      const { json } = parse(rest, specs.list);
      const result = await brokers.list();
      emit(
        io,
        json,
        result,
        () => `${formatTable(result.items, BROKER_COLUMNS)}${result.total} integration(s)\n`,
      );
      return 0;
    }
    case 'add': {
      const { values, positionals, json } = parse(rest, specs.add);
      const config = await configFrom(values, io);
      if (config === undefined) throw new UsageError('give one of --config-file, --config');
      const input = parseWith(CreateBrokerBody, {
        name: requirePositional(positionals, 0, 'name'),
        kind: values.kind,
        enabled: values.disabled !== true,
        config,
      });
      const created: PublicBroker = await brokers.create(CLI_CONTEXT, input);
      emit(io, json, created, () => formatTable([created], BROKER_COLUMNS));
      return 0;
    }
    case 'update': {
      const { values, positionals, json } = parse(rest, specs.update);
      const name = requirePositional(positionals, 0, 'name');
      const enabled = enabledFrom(values);
      let config = await configFrom(values, io);
      if (config === undefined) {
        if (enabled.enabled === undefined)
          throw new UsageError('give --config-file, --config, --enable or --disable');
        // Only switching on or off: send the current settings back (their secrets, omitted, are kept).
        config = (await brokers.get(name)).config;
      }
      const updated = await brokers.update(
        CLI_CONTEXT,
        name,
        parseWith(UpdateBrokerBody, { config, ...enabled }),
      );
      emit(io, json, updated, () => formatTable([updated], BROKER_COLUMNS));
      return 0;
    }
    case 'sync': {
      const { values, positionals, json } = parse(rest, specs.sync);
      const name = requirePositional(positionals, 0, 'name');
      const report = await brokers.sync(CLI_CONTEXT, name, { dryRun: values['dry-run'] === true });
      emit(io, json, report, () => describeReport(report));
      return 0;
    }
    case 'remove': {
      const { positionals, json } = parse(rest, specs.remove);
      const name = requirePositional(positionals, 0, 'name');
      await brokers.remove(CLI_CONTEXT, name);
      emit(io, json, { removed: name }, () => `Removed broker integration ${name}\n`);
      return 0;
    }
    case 'status': {
      const { positionals, json } = parse(rest, specs.status);
      const status = await brokers.status(requirePositional(positionals, 0, 'name'));
      emit(io, json, status, () => {
        const lines = [
          formatTable(
            [{ ...status }],
            ['name', 'kind', 'enabled', 'running', 'connected', 'lastSyncAt', 'lastError'],
          ),
        ];
        if (status.pendingPasswords) {
          const { count, usernames } = status.pendingPasswords;
          lines.push(
            `${count} user(s) whose broker password Warden cannot know yet (set a new one): ${usernames.join(', ') || '-'}\n`,
          );
        }
        if (status.hooks)
          lines.push(
            `${status.hooks.requests} hook request(s), last ${status.hooks.lastRequestAt ?? 'never'}\n`,
          );
        return lines.join('');
      });
      return 0;
    }
    default:
      throw new UsageError(groupUsage(BROKERS));
  }
}
