import { parseWith } from '../../core/validation.js';
import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import { PageQuery } from '../../modules/sessions/sessions.schemas.js';
import type { Services } from '../../services.js';
import { optionalInteger, optionalString, parse, requirePositional } from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';

const SESSION_COLUMNS = ['id', 'username', 'stage', 'createdAt', 'lastSeenAt', 'ip', 'userAgent'];

export const SESSIONS_USAGE = `warden sessions list [--user U] [--page N] [--page-size N] [--json]
warden sessions revoke <id> | --user U`;

/** `warden sessions`: list live sessions and end them (audited as `session.revoke` by actor `cli`). */
export async function sessionsCommand(
  services: Services,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = argv;
  const { sessions } = services;
  switch (sub) {
    case 'list': {
      const { values, json } = parse(rest, {
        user: { type: 'string' },
        page: { type: 'string' },
        'page-size': { type: 'string' },
      });
      const page = parseWith(PageQuery, {
        page: optionalInteger(values, 'page') ?? 1,
        pageSize: optionalInteger(values, 'page-size') ?? 250,
      });
      const user = optionalString(values, 'user');
      const pageInput = { page: page.page ?? 1, pageSize: page.pageSize ?? 250 };
      const result = user ? await sessions.listOfUser(user, pageInput) : await sessions.list({}, pageInput);
      emit(
        io,
        json,
        result,
        () => `${formatTable(result.items, SESSION_COLUMNS)}${result.items.length} of ${result.total}\n`,
      );
      return 0;
    }
    case 'revoke': {
      const { values, positionals, json } = parse(rest, { user: { type: 'string' } });
      const user = optionalString(values, 'user');
      if (user !== undefined) {
        if (positionals.length > 0) throw new UsageError('give either a session <id> or --user, not both');
        const ended = await sessions.revokeAllOfUser(CLI_CONTEXT, user);
        emit(io, json, { username: user, ended }, () => `Ended ${ended} session(s) of ${user}\n`);
        return 0;
      }
      const id = requirePositional(positionals, 0, 'id');
      await sessions.revoke(CLI_CONTEXT, id);
      emit(io, json, { revoked: id }, () => `Ended session ${id}\n`);
      return 0;
    }
    default:
      throw new UsageError(SESSIONS_USAGE);
  }
}
