import { toIso } from '../../core/clock.js';
import { parseWith } from '../../core/validation.js';
import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import {
  CreateUserBody,
  ListUsersQuery,
  type PublicUser,
  RotateSecretBody,
  UpdateUserBody,
  type UserKind,
} from '../../modules/users/users.schemas.js';
import type { Services } from '../../services.js';
import {
  confirm,
  defineGroup,
  type OptionSpec,
  optionalInteger,
  optionalList,
  parse,
  readStdinLine,
  requirePositional,
} from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';
import { groupUsage } from '../usage.js';

const USER_COLUMNS = [
  'username',
  'role',
  'active',
  'kind',
  'authMethod',
  'email',
  'mfaEnabled',
  'lastLoginAt',
];

/** Why `--password` is gone: say what to do instead, never echo the value. */
const PASSWORD_ON_COMMAND_LINE =
  '--password is not accepted: a password on the command line is visible to other users (ps) and stays in ' +
  'the shell history. Pipe it in with --password-stdin (first line of stdin), or leave both out to get a ' +
  'generated password printed once.';

const PASSWORD_STDIN: OptionSpec = {
  type: 'boolean',
  description:
    'read the password from the first line of stdin (without it one is generated and printed once)',
};

const PAGE_OPTIONS = {
  page: { type: 'string', value: 'N', description: 'page number, from 1' },
  'page-size': {
    type: 'string',
    value: 'N',
    description: 'entries per page: 25, 50, 100 or 250 (default 250)',
  },
} as const satisfies Record<string, OptionSpec>;

const PROFILE_OPTIONS = {
  role: { type: 'string', value: 'R', description: 'admin, operator or viewer' },
  email: { type: 'string', value: 'E', description: 'e-mail address' },
  description: { type: 'string', value: 'D', description: 'free text, e.g. where a device is installed' },
  scopes: {
    type: 'string',
    value: 'a,b',
    description: "what the role may manage, comma-separated (default: the role's default scopes)",
  },
  kind: {
    type: 'string',
    value: 'K',
    description: 'person, device or service (devices and services log in to MQTT only)',
  },
  'access-roles': {
    type: 'string',
    value: 'a,b',
    description: 'MQTT access roles, comma-separated, in evaluation order',
  },
  'session-timeout': {
    type: 'string',
    value: 'MIN',
    description: 'console idle timeout in minutes (0: the system default)',
  },
  auth: {
    type: 'string',
    value: 'M',
    description: 'authentication method: local (a password) or sso (sign in at --provider; needs --email)',
  },
  provider: {
    type: 'string',
    value: 'P',
    description: 'the SSO provider of an --auth sso user (warden sso providers list)',
  },
} as const satisfies Record<string, OptionSpec>;

export const USERS = defineGroup('users', 'manage users', {
  list: {
    summary: 'list users, active ones unless --all',
    options: {
      search: { type: 'string', value: 'S', description: 'only users whose name or e-mail contains S' },
      role: { type: 'string', value: 'R', description: 'only users with this role' },
      all: { type: 'boolean', description: 'include deactivated users' },
      ...PAGE_OPTIONS,
    },
  },
  create: {
    args: '<username>',
    summary: 'create a user; without --password-stdin a password is generated and printed once',
    options: {
      ...PROFILE_OPTIONS,
      role: { ...PROFILE_OPTIONS.role, description: 'admin, operator or viewer (default viewer)' },
      kind: { ...PROFILE_OPTIONS.kind, description: `${PROFILE_OPTIONS.kind.description}; default person` },
      'password-stdin': PASSWORD_STDIN,
    },
    refused: { password: PASSWORD_ON_COMMAND_LINE },
    notes: [
      "A generated password of a person must be changed at the first console login; a device's or service's",
      'is its MQTT password and stays as it is. An SSO user (--auth sso) has no password at all.',
      'Example: warden users create plc-01 --kind device --access-roles sensor',
      'Example: warden users create alice --auth sso --provider keycloak --email alice@example.com',
    ],
  },
  update: {
    args: '<username>',
    summary: 'change a user; only the options given change',
    notes: [
      'Switching --auth ends the user’s sessions. local → sso keeps the password but nothing accepts it;',
      'sso → local prints a one-time password (shown once) that must be changed at the next login.',
    ],
    options: {
      ...PROFILE_OPTIONS,
      email: { ...PROFILE_OPTIONS.email, description: 'e-mail address ("" removes it)' },
      'access-roles': {
        ...PROFILE_OPTIONS['access-roles'],
        description: `${PROFILE_OPTIONS['access-roles'].description} ("" removes all)`,
      },
    },
  },
  passwd: {
    args: '<username>',
    summary: "set a user's password: from stdin, or generated and printed once; ends their sessions",
    options: {
      'password-stdin': PASSWORD_STDIN,
      'must-change': {
        type: 'boolean',
        description: 'the user must choose a new one at the next console login',
      },
    },
    refused: { password: PASSWORD_ON_COMMAND_LINE },
    json: false,
  },
  'rotate-secret': {
    args: '<username>',
    summary:
      "a device's or service's new generated MQTT secret, printed once; the old one may stay valid a while",
    options: {
      'grace-minutes': {
        type: 'string',
        value: 'N',
        description:
          'the previous secret stays valid for N minutes (at most 10080) and live connections stay open until then; default 0: it stops at once',
      },
    },
    notes: [
      'Re-provision a fleet without a flag day: rotate with a grace period, configure each device with its new',
      'secret within it. Mosquitto keeps one password per client: there the new secret replaces the old at once.',
      'Example: warden users rotate-secret plc-01 --grace-minutes 1440',
    ],
  },
  deactivate: {
    args: '<username>',
    summary: 'deactivate a user: sessions end, logins and MQTT connections are refused',
  },
  reactivate: { args: '<username>', summary: 'reactivate a deactivated user' },
  delete: {
    args: '<username>',
    summary: 'delete a user permanently (asks first; scripts pass --yes)',
    options: {
      yes: { type: 'boolean', description: 'do not ask (required when stdin is not a terminal)' },
    },
  },
  'reset-mfa': {
    args: '<username>',
    summary: 'lost authenticator: remove it, the user enrols again at the next login',
  },
});

/** A generated password, printed once: a person's must be changed, a device's or service's is for MQTT. */
function generatedPasswordLine(username: string, kind: UserKind, password: string, isNew: boolean): string {
  if (kind === 'person') {
    return isNew
      ? `Generated password (shown once, must be changed at first login): ${password}\n`
      : `New password for ${username} (shown once, must be changed at next login): ${password}\n`;
  }
  return `${isNew ? 'Generated' : 'New'} MQTT password of ${kind} ${username} (shown once, store it in the ${kind}'s configuration): ${password}\n`;
}

/** The password piped in with --password-stdin (first line of stdin), or null: Warden generates one. */
async function chosenPassword(values: Record<string, unknown>, io: CliIo): Promise<string | null> {
  return values['password-stdin'] === true ? readStdinLine(io.stdin) : null;
}

/** `--auth` and `--provider` as the API's `authMethod` and `ssoProvider` (validated by the body schema). */
function authOptions(values: Record<string, unknown>): Record<string, unknown> {
  return {
    ...(typeof values.auth === 'string' ? { authMethod: values.auth } : {}),
    ...(typeof values.provider === 'string' ? { ssoProvider: values.provider } : {}),
  };
}

function showUser(io: CliIo, json: boolean, user: PublicUser): void {
  emit(io, json, user, () => formatTable([user], [...USER_COLUMNS, 'scopes']));
}

/** `warden users …`: the same service, validation and audit (actor `cli`) as `/api/v1/users`. */
export async function usersCommand(services: Services, argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  const { users } = services;
  const specs = USERS.subcommands;
  switch (sub) {
    case 'list': {
      const { values, json } = parse(rest, specs.list);
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
      const { values, positionals, json } = parse(rest, specs.create);
      const password = await chosenPassword(values, io);
      const { password: _none, ...input } = parseWith(CreateUserBody, {
        username: requirePositional(positionals, 0, 'username'),
        ...(password === null ? {} : { password }),
        role: values.role ?? 'viewer',
        ...(values.email ? { email: values.email } : {}),
        ...(values.description ? { description: values.description } : {}),
        ...(values.kind ? { kind: values.kind } : {}),
        ...(optionalList(values, 'scopes') ? { scopes: optionalList(values, 'scopes') } : {}),
        ...(optionalList(values, 'access-roles')
          ? { accessRoles: optionalList(values, 'access-roles') }
          : {}),
        ...(values['session-timeout']
          ? { sessionTimeoutMinutes: optionalInteger(values, 'session-timeout') }
          : {}),
        ...authOptions(values),
      });
      if (input.authMethod === 'sso' && password === null) {
        showUser(io, json, await users.createSso(CLI_CONTEXT, { ...input, authMethod: 'sso' }));
        return 0;
      }
      if (password !== null) {
        showUser(io, json, await users.create(CLI_CONTEXT, { ...input, password }));
        return 0;
      }
      const created = await users.createGenerated(CLI_CONTEXT, input);
      showUser(io, json, created.user);
      io.stdout(generatedPasswordLine(created.user.username, created.user.kind, created.password, true));
      return 0;
    }
    case 'update': {
      const { values, positionals, json } = parse(rest, specs.update);
      const input = parseWith(UpdateUserBody, {
        ...(values.role ? { role: values.role } : {}),
        ...(values.email !== undefined ? { email: values.email === '' ? null : values.email } : {}),
        ...(values.description !== undefined ? { description: values.description } : {}),
        ...(values.kind ? { kind: values.kind } : {}),
        ...(optionalList(values, 'scopes') ? { scopes: optionalList(values, 'scopes') } : {}),
        ...(optionalList(values, 'access-roles')
          ? { accessRoles: optionalList(values, 'access-roles') }
          : {}),
        ...(values['session-timeout']
          ? { sessionTimeoutMinutes: optionalInteger(values, 'session-timeout') }
          : {}),
        ...authOptions(values),
      });
      const { generatedPassword, ...user } = await users.update(
        CLI_CONTEXT,
        requirePositional(positionals, 0, 'username'),
        input,
      );
      // A switch from sso to local drew a one-time password: shown this once, in either format.
      emit(
        io,
        json,
        { ...user, ...(generatedPassword ? { generatedPassword } : {}) },
        () =>
          `${formatTable([user], [...USER_COLUMNS, 'scopes'])}${
            generatedPassword ? generatedPasswordLine(user.username, user.kind, generatedPassword, false) : ''
          }`,
      );
      return 0;
    }
    case 'passwd': {
      const { values, positionals } = parse(rest, specs.passwd);
      const username = requirePositional(positionals, 0, 'username');
      const { kind } = await users.get(username);
      const password = await chosenPassword(values, io);
      const mustChange = values['must-change'] === true;
      if (password !== null) {
        await users.setPassword(CLI_CONTEXT, username, password, { mustChange });
        io.stdout(`Password of ${username} changed\n`);
        return 0;
      }
      const generated = await users.setGeneratedPassword(CLI_CONTEXT, username, { mustChange });
      io.stdout(generatedPasswordLine(username, kind, generated, false));
      return 0;
    }
    case 'rotate-secret': {
      const { values, positionals, json } = parse(rest, specs['rotate-secret']);
      const username = requirePositional(positionals, 0, 'username');
      const { graceMinutes } = parseWith(RotateSecretBody, {
        ...(values['grace-minutes'] === undefined
          ? {}
          : { graceMinutes: optionalInteger(values, 'grace-minutes') }),
      });
      const rotated = await users.rotateSecret(CLI_CONTEXT, username, {
        ...(graceMinutes === undefined ? {} : { graceMinutes }),
      });
      const previousSecretValidUntil = toIso(rotated.previousValidUntil);
      emit(io, json, { username, secret: rotated.secret, previousSecretValidUntil }, () =>
        [
          `New MQTT secret of ${username} (shown once, store it in its configuration): ${rotated.secret}`,
          previousSecretValidUntil === null
            ? 'The previous secret no longer works; its connections were closed.'
            : `The previous secret works until ${previousSecretValidUntil}; open connections stay until then.`,
          '',
        ].join('\n'),
      );
      return 0;
    }
    case 'deactivate':
    case 'reactivate': {
      const { positionals, json } = parse(rest, specs[sub]);
      showUser(io, json, await users[sub](CLI_CONTEXT, requirePositional(positionals, 0, 'username')));
      return 0;
    }
    case 'delete': {
      const { values, positionals, json } = parse(rest, specs.delete);
      const username = requirePositional(positionals, 0, 'username');
      if (values.yes !== true) {
        // A script cannot answer, and must not hang waiting for an answer or delete by accident.
        if (!io.stdinIsTTY) {
          throw new UsageError(
            `not deleting ${username}: stdin is not a terminal to confirm on; pass --yes to delete without asking`,
          );
        }
        await users.get(username); // an unknown user fails before the question
        if (!(await confirm(io, `Delete user ${username} permanently? (Deactivating keeps the account.)`))) {
          io.stderr(`${username} was not deleted\n`);
          return 1;
        }
      }
      await users.remove(CLI_CONTEXT, username);
      emit(io, json, { deleted: username }, () => `Deleted ${username}\n`);
      return 0;
    }
    case 'reset-mfa': {
      const { positionals, json } = parse(rest, specs['reset-mfa']);
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
      throw new UsageError(groupUsage(USERS));
  }
}
