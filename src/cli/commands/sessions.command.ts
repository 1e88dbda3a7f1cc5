import { parseWith } from '../../core/validation.js';
import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import { PageQuery } from '../../modules/sessions/sessions.schemas.js';
import type { Services } from '../../services.js';
import { defineGroup, optionalInteger, optionalString, parse, requirePositional } from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';
import { groupUsage } from '../usage.js';

const SESSION_COLUMNS = [
  'id',
  'username',
  'stage',
  'createdAt',
  'lastSeenAt',
  'expiresAt',
  'ip',
  'userAgent',
];

export const SESSIONS = defineGroup('sessions', 'list and end console sessions', {
  list: {
    summary: 'list live sessions, newest first; EXPIRES AT is when one ends if not used again',
    options: {
      user: { type: 'string', value: 'U', description: "only this user's sessions" },
      page: { type: 'string', value: 'N', description: 'page number, from 1' },
      'page-size': {
        type: 'string',
        value: 'N',
        description: 'sessions per page: 25, 50, 100 or 250 (default 250)',
      },
    },
  },
  revoke: {
    args: '[<id>]',
    summary: 'end one session by its id, or all sessions of a user with --user',
    options: { user: { type: 'string', value: 'U', description: "end all of this user's sessions" } },
  },
});

/** `warden sessions`: list live sessions and end them (audited as `session.revoke` by actor `cli`). */
export async function sessionsCommand(
  services: Services,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = argv;
  const { sessions } = services;
  const specs = SESSIONS.subcommands;
  switch (sub) {
    case 'list': {
      const { values, json } = parse(rest, specs.list);
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
      const { values, positionals, json } = parse(rest, specs.revoke);
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
      throw new UsageError(groupUsage(SESSIONS));
  }
}
