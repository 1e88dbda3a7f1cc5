import { metricsError } from '../../modules/metrics/metrics.errors.js';
import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import type { Services } from '../../services.js';
import { defineGroup, optionalString, parse, requirePositional } from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';
import { groupUsage } from '../usage.js';

const COLUMNS = ['id', 'name', 'createdAt', 'createdBy', 'expiresAt', 'lastUsedAt', 'expired'];

export const SCRAPE_TOKENS = defineGroup('scrape-tokens', 'tokens that let Prometheus read GET /metrics', {
  list: { summary: 'list scrape tokens (never their secrets)' },
  create: {
    args: '<name>',
    summary: 'create a scrape token and print its secret, this once',
    options: {
      description: { type: 'string', value: 'TEXT', description: 'what the token is for' },
      'expires-at': {
        type: 'string',
        value: 'TIME',
        description: 'ISO 8601 time it stops working, e.g. 2027-01-01T00:00:00Z (default: never)',
      },
    },
    notes: ['Prometheus sends it as "Authorization: Bearer <secret>" (docs/metrics.md).'],
  },
  delete: {
    args: '<id | name>',
    summary: 'delete a scrape token: refused from the next scrape on, on every instance',
  },
});

/** `warden scrape-tokens`: the same service, validation and audit (actor `cli`) as the API. */
export async function scrapeTokensCommand(
  services: Services,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = argv;
  const { scrapeTokens } = services;
  const specs = SCRAPE_TOKENS.subcommands;
  switch (sub) {
    case 'list': {
      const { json } = parse(rest, specs.list);
      const list = await scrapeTokens.list();
      emit(io, json, list, () => `${formatTable(list.items, COLUMNS)}${list.total} token(s)\n`);
      return 0;
    }
    case 'create': {
      const { values, positionals, json } = parse(rest, specs.create);
      const name = requirePositional(positionals, 0, 'name');
      const description = optionalString(values, 'description');
      const expiresAt = optionalString(values, 'expires-at');
      const created = await scrapeTokens.create(CLI_CONTEXT, {
        name,
        ...(description === undefined ? {} : { description }),
        ...(expiresAt === undefined ? {} : { expiresAt }),
      });
      emit(
        io,
        json,
        created,
        () =>
          `Created scrape token ${created.token.name} (id ${created.token.id}). Its secret, shown only now:\n` +
          `${created.secret}\n`,
      );
      return 0;
    }
    case 'delete': {
      const { positionals, json } = parse(rest, specs.delete);
      const key = requirePositional(positionals, 0, 'id | name');
      const token = (await scrapeTokens.list()).items.find((item) => item.id === key || item.name === key);
      if (!token) throw metricsError('scrape_token.not_found', `No scrape token with id or name "${key}"`);
      await scrapeTokens.remove(CLI_CONTEXT, token.id);
      emit(io, json, { deleted: token.id }, () => `Deleted scrape token ${token.name} (id ${token.id})\n`);
      return 0;
    }
    default:
      throw new UsageError(groupUsage(SCRAPE_TOKENS));
  }
}
