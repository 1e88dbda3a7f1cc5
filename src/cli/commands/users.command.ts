import { generatePassword } from '../../core/crypto/tokens.js';
import { parseWith } from '../../core/validation.js';
import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import {
  CreateUserBody,
  ListUsersQuery,
  type PublicUser,
  UpdateUserBody,
} from '../../modules/users/users.schemas.js';
import type { Services } from '../../services.js';
import { optionalInteger, optionalString, parse, readStdinLine, requirePositional } from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';

const USER_COLUMNS = ['username', 'role', 'active', 'kind', 'email', 'mfaEnabled', 'lastLoginAt'];

export const USERS_USAGE = `warden users list [--search S] [--role R] [--all] [--page N] [--page-size N] [--json]
warden users create <username> --role R [--email E] [--description D] [--scopes a,b] [--kind K] [--access-roles a,b]
                    [--session-timeout MIN] [--password-stdin | --password P] [--json]
warden users update <username> [--role R] [--scopes a,b] [--email E] [--description D]
                    [--access-roles a,b (ordered; "" removes all)] [--json]
warden users passwd <username> [--password-stdin | --password P] [--must-change]
warden users deactivate|reactivate|delete <username>
warden users reset-mfa <username>      (lost authenticator: the user enrols again at the next login)`;

/** The password for create/passwd: stdin, the (visible in `ps`) flag, or a generated one printed once. */
async function passwordFrom(
  values: Record<string, unknown>,
): Promise<{ password: string; generated: boolean }> {
  if (values['password-stdin'] === true) return { password: await readStdinLine(), generated: false };
  const given = optionalString(values, 'password');
  return given === undefined
    ? { password: generatePassword(), generated: true }
    : { password: given, generated: false };
}

/** A comma-separated list flag (`--scopes a,b`, `--access-roles a,b`); an empty value is the empty list. */
function listFrom(values: Record<string, unknown>, name: string): string[] | undefined {
  const raw = optionalString(values, name);
  return raw === undefined
    ? undefined
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

function showUser(io: CliIo, json: boolean, user: PublicUser): void {
  emit(io, json, user, () => formatTable([user], [...USER_COLUMNS, 'scopes']));
}

export async function usersCommand(services: Services, argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  const { users } = services;
  switch (sub) {
    case 'list': {
      const { values, json } = parse(rest, {
        search: { type: 'string' },
        role: { type: 'string' },
        all: { type: 'boolean' },
        page: { type: 'string' },
        'page-size': { type: 'string' },
      });
      const query = parseWith(ListUsersQuery, {
        ...(values.search ? { search: values.search } : {}),
        ...(values.role ? { role: values.role } : {}),
        includeInactive: values.all === true,
        page: optionalInteger(values, 'page') ?? 1,
        pageSize: optionalInteger(values, 'page-size') ?? 250,
      });
      const result = await users.list(query);
      emit(
        io,
        json,
        result,
        () => `${formatTable(result.items, USER_COLUMNS)}${result.items.length} of ${result.total}\n`,
      );
      return 0;
    }
    case 'create': {
      const { values, positionals, json } = parse(rest, {
        role: { type: 'string' },
        email: { type: 'string' },
        description: { type: 'string' },
        scopes: { type: 'string' },
        kind: { type: 'string' },
        'session-timeout': { type: 'string' },
        'access-roles': { type: 'string' },
        password: { type: 'string' },
        'password-stdin': { type: 'boolean' },
      });
      const { password, generated } = await passwordFrom(values);
      const input = parseWith(CreateUserBody, {
        username: requirePositional(positionals, 0, 'username'),
        password,
        role: values.role ?? 'viewer',
        ...(values.email ? { email: values.email } : {}),
        ...(values.description ? { description: values.description } : {}),
        ...(values.kind ? { kind: values.kind } : {}),
        ...(listFrom(values, 'scopes') ? { scopes: listFrom(values, 'scopes') } : {}),
        ...(listFrom(values, 'access-roles') ? { accessRoles: listFrom(values, 'access-roles') } : {}),
        ...(values['session-timeout']
          ? { sessionTimeoutMinutes: optionalInteger(values, 'session-timeout') }
          : {}),
      });
      const user = await users.create(CLI_CONTEXT, input, { mustChangePassword: generated });
      showUser(io, json, user);
      if (generated)
        io.stdout(`Generated password (shown once, must be changed at first login): ${password}\n`);
      return 0;
    }
    case 'update': {
      const { values, positionals, json } = parse(rest, {
        role: { type: 'string' },
        email: { type: 'string' },
        description: { type: 'string' },
        scopes: { type: 'string' },
        kind: { type: 'string' },
        'session-timeout': { type: 'string' },
        'access-roles': { type: 'string' },
      });
      const input = parseWith(UpdateUserBody, {
        ...(values.role ? { role: values.role } : {}),
        ...(values.email !== undefined ? { email: values.email === '' ? null : values.email } : {}),
        ...(values.description !== undefined ? { description: values.description } : {}),
        ...(values.kind ? { kind: values.kind } : {}),
        ...(listFrom(values, 'scopes') ? { scopes: listFrom(values, 'scopes') } : {}),
        ...(listFrom(values, 'access-roles') ? { accessRoles: listFrom(values, 'access-roles') } : {}),
        ...(values['session-timeout']
          ? { sessionTimeoutMinutes: optionalInteger(values, 'session-timeout') }
          : {}),
      });
      showUser(
        io,
        json,
        await users.update(CLI_CONTEXT, requirePositional(positionals, 0, 'username'), input),
      );
      return 0;
    }
    case 'passwd': {
      const { values, positionals } = parse(rest, {
        password: { type: 'string' },
        'password-stdin': { type: 'boolean' },
        'must-change': { type: 'boolean' },
      });
      const username = requirePositional(positionals, 0, 'username');
      const { password, generated } = await passwordFrom(values);
      await users.setPassword(CLI_CONTEXT, username, password, {
        mustChange: generated || values['must-change'] === true,
      });
      io.stdout(
        generated
          ? `New password for ${username} (shown once): ${password}\n`
          : `Password of ${username} changed\n`,
      );
      return 0;
    }
    case 'deactivate':
    case 'reactivate': {
      const { positionals, json } = parse(rest, {});
      showUser(io, json, await users[sub](CLI_CONTEXT, requirePositional(positionals, 0, 'username')));
      return 0;
    }
    case 'delete': {
      const { positionals, json } = parse(rest, {});
      const username = requirePositional(positionals, 0, 'username');
      await users.remove(CLI_CONTEXT, username);
      emit(io, json, { deleted: username }, () => `Deleted ${username}\n`);
      return 0;
    }
    case 'reset-mfa': {
      const { positionals, json } = parse(rest, {});
      const username = requirePositional(positionals, 0, 'username');
      await services.mfa.reset(CLI_CONTEXT, username);
      emit(
        io,
        json,
        { username, mfaReset: true },
        () => `MFA of ${username} reset: they enrol a new authenticator at their next login\n`,
      );
      return 0;
    }
    default:
      throw new UsageError(USERS_USAGE);
  }
}
