import fs from 'node:fs';
import { parseWith } from '../../core/validation.js';
import { CreateBrokerBody, type PublicBroker } from '../../modules/brokers/brokers.schemas.js';
import { CLI_CONTEXT } from '../../modules/roles/operation-context.js';
import type { Services } from '../../services.js';
import { optionalString, parse, requirePositional } from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';

export const BROKERS_USAGE = `warden brokers list [--json]
warden brokers add <name> --kind mosquitto|emqx|go-auth|vernemq (--config-file F | --config JSON) [--disabled] [--json]
                   (secrets belong in a file, mode 0600, not on the command line; "-" reads stdin)
warden brokers remove <name>
warden brokers status <name> [--json]`;

const BROKER_COLUMNS = ['name', 'kind', 'enabled', 'secrets', 'updatedAt'];

/** The settings JSON from `--config-file` (a path, or `-` for stdin) or `--config`. */
async function configFrom(values: Record<string, unknown>): Promise<unknown> {
  const file = optionalString(values, 'config-file');
  const inline = optionalString(values, 'config');
  if ((file === undefined) === (inline === undefined))
    throw new UsageError('give exactly one of --config-file, --config');
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
      const input = parseWith(CreateBrokerBody, {
        name: requirePositional(positionals, 0, 'name'),
        kind: values.kind,
        enabled: values.disabled !== true,
        config: await configFrom(values),
      });
      const created: PublicBroker = await brokers.create(CLI_CONTEXT, input);
      emit(io, json, created, () => formatTable([created], BROKER_COLUMNS));
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
