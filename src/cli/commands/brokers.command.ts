import fs from 'node:fs';
import { parseWith } from '../../core/validation.js';
import type { SyncReport } from '../../integrations/broker-integration.js';
import {
  CreateBrokerBody,
  type PublicBroker,
  UpdateBrokerBody,
} from '../../modules/brokers/brokers.schemas.js';
import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import type { Services } from '../../services.js';
import { optionalString, parse, requirePositional } from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';

export const BROKERS_USAGE = `warden brokers list [--json]
warden brokers add <name> --kind mosquitto|emqx|go-auth|vernemq (--config-file F | --config JSON) [--disabled] [--json]
                   (secrets belong in a file, mode 0600, not on the command line; "-" reads stdin)
warden brokers update <name> [--config-file F | --config JSON] [--enable | --disable] [--json]
                   (replaces the settings; omitted secrets are kept, null removes an optional one;
                    without a configuration only --enable / --disable change)
warden brokers remove <name>
warden brokers status <name> [--json]
warden brokers sync <name> [--dry-run] [--json]
                   (full reconcile: Mosquitto's diff, EMQX's cache purge; --dry-run only prints it)`;

const BROKER_COLUMNS = ['name', 'kind', 'enabled', 'secrets', 'updatedAt'];

/** The settings JSON from `--config-file` (a path, or `-` for stdin) or `--config`; undefined when neither. */
async function configFrom(values: Record<string, unknown>): Promise<unknown> {
  const file = optionalString(values, 'config-file');
  const inline = optionalString(values, 'config');
  if (file !== undefined && inline !== undefined)
    throw new UsageError('give one of --config-file, --config, not both');
  if (file === undefined && inline === undefined) return undefined;
  let text = inline ?? '';
  if (file === '-') {
    for await (const chunk of process.stdin) text += String(chunk);
  } else if (file !== undefined) {
    text = fs.readFileSync(file, 'utf8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the configuration is not JSON: ${(error as Error).message}`);
  }
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
  switch (sub) {
    case 'list': {
      const { json } = parse(rest, {});
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
      const { values, positionals, json } = parse(rest, {
        kind: { type: 'string' },
        config: { type: 'string' },
        'config-file': { type: 'string' },
        disabled: { type: 'boolean' },
      });
      const config = await configFrom(values);
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
      const { values, positionals, json } = parse(rest, {
        config: { type: 'string' },
        'config-file': { type: 'string' },
        enable: { type: 'boolean' },
        disable: { type: 'boolean' },
      });
      const name = requirePositional(positionals, 0, 'name');
      const enabled = enabledFrom(values);
      let config = await configFrom(values);
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
      const { values, positionals, json } = parse(rest, { 'dry-run': { type: 'boolean' } });
      const name = requirePositional(positionals, 0, 'name');
      const report = await brokers.sync(CLI_CONTEXT, name, { dryRun: values['dry-run'] === true });
      emit(io, json, report, () => describeReport(report));
      return 0;
    }
    case 'remove': {
      const { positionals, json } = parse(rest, {});
      const name = requirePositional(positionals, 0, 'name');
      await brokers.remove(CLI_CONTEXT, name);
      emit(io, json, { removed: name }, () => `Removed broker integration ${name}\n`);
      return 0;
    }
    case 'status': {
      const { positionals, json } = parse(rest, {});
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
      throw new UsageError(BROKERS_USAGE);
  }
}
