import { parseWith } from '../../core/validation.js';
import {
  CreateApiKeyBody,
  ListApiKeysQuery,
  type PublicApiKey,
} from '../../modules/api-keys/api-keys.schemas.js';
import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import type { Services } from '../../services.js';
import {
  defineGroup,
  optionalInteger,
  optionalList,
  optionalString,
  parse,
  requirePositional,
} from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';
import { groupUsage } from '../usage.js';

const KEY_COLUMNS = ['id', 'name', 'owner', 'role', 'enabled', 'expiresAt', 'lastUsedAt'];

export const API_KEYS = defineGroup('api-keys', 'create, list, enable, disable and delete API keys', {
  create: {
    args: '<name>',
    summary: 'create an API key for --owner; the key is printed once',
    options: {
      owner: { type: 'string', value: 'U', required: true, description: 'the user the key acts for' },
      role: { type: 'string', value: 'R', required: true, description: 'viewer, operator or admin' },
      scopes: {
        type: 'string',
        value: 'S',
        description:
          'comma-separated scopes the key may use (default: none); never more than the owner holds',
      },
      description: { type: 'string', value: 'TEXT', description: 'what the key is for' },
      'expires-at': {
        type: 'string',
        value: 'TIME',
        description: 'ISO 8601 time the key stops working (default: never)',
      },
    },
    notes: [
      'Example: warden api-keys create nightly-export --owner svc-export --role viewer --scopes log_management',
    ],
  },
  list: {
    summary: 'list API keys, newest first (never the keys themselves)',
    options: {
      owner: { type: 'string', value: 'U', description: "only this user's keys" },
      page: { type: 'string', value: 'N', description: 'page number, from 1' },
      'page-size': {
        type: 'string',
        value: 'N',
        description: 'keys per page: 25, 50, 100 or 250 (default 250)',
      },
    },
  },
  enable: { args: '<id>', summary: 'enable a key again' },
  disable: { args: '<id>', summary: 'disable a key: it stops at the next request' },
  delete: { args: '<id>', summary: 'delete a key: it stops at the next request' },
});

function showKeys(io: CliIo, json: boolean, data: unknown, keys: readonly PublicApiKey[]): void {
  emit(io, json, data, () => formatTable(keys, KEY_COLUMNS));
}

/** `warden api-keys`: the same service, validation and audit (actor `cli`) as the API (docs/api-keys.md). */
export async function apiKeysCommand(
  services: Services,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = argv;
  const { apiKeys } = services;
  const specs = API_KEYS.subcommands;
  switch (sub) {
    case 'create': {
      const { values, positionals, json } = parse(rest, specs.create);
      // Without --owner the service refuses (api_key.owner_required): the CLI acts for no user.
      const owner = optionalString(values, 'owner');
      const description = optionalString(values, 'description');
      const expiresAt = optionalString(values, 'expires-at');
      const input = parseWith(CreateApiKeyBody, {
        name: requirePositional(positionals, 0, 'name'),
        ...(owner === undefined ? {} : { owner }),
        role: optionalString(values, 'role'),
        scopes: optionalList(values, 'scopes') ?? [],
        ...(description === undefined ? {} : { description }),
        ...(expiresAt === undefined ? {} : { expiresAt }),
      });
      const created = await apiKeys.create(CLI_CONTEXT, input);
      emit(io, json, created, () =>
        [
          formatTable([created], KEY_COLUMNS).trimEnd(),
          `API key (shown once, store it now): ${created.key}`,
          '',
        ].join('\n'),
      );
      return 0;
    }
    case 'list': {
      const { values, json } = parse(rest, specs.list);
      const owner = optionalString(values, 'owner');
      const query = parseWith(ListApiKeysQuery, {
        page: optionalInteger(values, 'page') ?? 1,
        pageSize: optionalInteger(values, 'page-size') ?? 250,
        ...(owner === undefined ? {} : { owner }),
      });
      const result = await apiKeys.list(query);
      emit(
        io,
        json,
        result,
        () => `${formatTable(result.items, KEY_COLUMNS)}${result.items.length} of ${result.total}\n`,
      );
      return 0;
    }
    case 'enable':
    case 'disable': {
      const { positionals, json } = parse(rest, specs[sub]);
      const id = requirePositional(positionals, 0, 'id');
      const key = await apiKeys.update(CLI_CONTEXT, id, { enabled: sub === 'enable' });
      showKeys(io, json, key, [key]);
      return 0;
    }
    case 'delete': {
      const { positionals, json } = parse(rest, specs.delete);
      const id = requirePositional(positionals, 0, 'id');
      await apiKeys.remove(CLI_CONTEXT, id);
      emit(io, json, { deleted: id }, () => `Deleted API key ${id}\n`);
      return 0;
    }
    default:
      throw new UsageError(groupUsage(API_KEYS));
  }
}
