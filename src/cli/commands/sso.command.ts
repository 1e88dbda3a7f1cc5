import fs from 'node:fs';
import { parseWith } from '../../core/validation.js';
import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import {
  CreateSsoProviderBody,
  type PublicSsoProvider,
  type SsoTestResult,
  UpdateSsoProviderBody,
} from '../../modules/sso/sso-providers.schemas.js';
import type { Services } from '../../services.js';
import {
  type CommandGroup,
  type CommandSpec,
  defineGroup,
  type OptionSpec,
  optionalList,
  optionalString,
  parse,
  readStdinLine,
  repeatedStrings,
  requirePositional,
} from '../args.js';
import { type CliIo, emit, formatTable, UsageError } from '../output.js';
import { commandUsage, groupUsage } from '../usage.js';

/** Why `--client-secret` is refused: say what to do instead, never echo the value. */
const SECRET_ON_COMMAND_LINE =
  '--client-secret is not accepted: a secret on the command line is visible to other users (ps) and stays in ' +
  'the shell history. Pipe it in with --client-secret-stdin (first line of stdin) or name a file (mode 0600) ' +
  'with --client-secret-file.';

/** The provider's settings as options, shared by create and update. */
const SETTINGS_OPTIONS = {
  preset: {
    type: 'string',
    value: 'P',
    description: 'keycloak, entra, google or generic (create: fills in what is omitted; default generic)',
  },
  'display-name': {
    type: 'string',
    value: 'TEXT',
    description: 'the sign-in button text (default: the name)',
  },
  issuer: {
    type: 'string',
    value: 'URL',
    description: 'https:// issuer (http:// only on a loopback host); Google: filled in',
  },
  'client-id': { type: 'string', value: 'ID', description: 'the client id registered at the provider' },
  'client-secret-stdin': {
    type: 'boolean',
    description: 'read the client secret from the first line of stdin',
  },
  'client-secret-file': { type: 'string', value: 'F', description: 'read the client secret from a file' },
  scopes: {
    type: 'string',
    value: 'a,b',
    description: 'requested scopes, comma-separated; must include openid',
  },
  'auto-provision': { type: 'boolean', description: 'create unknown users at their first sign-in' },
  'default-role': { type: 'string', value: 'R', description: 'viewer, operator or admin (default viewer)' },
  'default-scopes': {
    type: 'string',
    value: 'a,b',
    description: "the default role's scopes, comma-separated (default: the role's defaults)",
  },
  'email-claim': { type: 'string', value: 'C', description: 'the claim holding the email (default email)' },
  'groups-claim': {
    type: 'string',
    value: 'C',
    description: "the claim holding the groups (default groups; '' = none)",
  },
  'map-group': {
    type: 'string',
    value: 'VALUE=ROLE[:scope,scope]',
    multiple: true,
    description: 'a role-mapping entry; repeat for more (update: replaces the whole mapping)',
  },
} as const satisfies Record<string, OptionSpec>;

const CHANGE_ONLY_OPTIONS = {
  'no-auto-provision': { type: 'boolean', description: 'stop creating unknown users at sign-in' },
  'public-client': { type: 'boolean', description: 'remove the stored client secret (a public client)' },
  'clear-mapping': { type: 'boolean', description: 'remove every role-mapping entry' },
} as const satisfies Record<string, OptionSpec>;

export const SSO_PROVIDERS = defineGroup('sso providers', 'manage the OpenID Connect providers', {
  list: { summary: 'list the providers (never their client secrets)' },
  show: { args: '<name>', summary: "a provider's settings and role mapping" },
  create: {
    args: '<name>',
    summary: 'create a provider; the name is part of its redirect URI and never changes',
    options: SETTINGS_OPTIONS,
    refused: { 'client-secret': SECRET_ON_COMMAND_LINE },
    notes: [
      'Example: warden sso providers create corp --preset keycloak --issuer https://id.example.com/realms/plant \\',
      '           --client-id warden --client-secret-file /run/secrets/corp --map-group plant-admins=admin',
      'The redirect URI to register at the provider: <public URL of Warden>/api/v1/auth/sso/<name>/callback.',
    ],
  },
  update: {
    args: '<name>',
    summary: 'change the settings given; the others (the client secret too) stay',
    options: { ...SETTINGS_OPTIONS, ...CHANGE_ONLY_OPTIONS },
    refused: { 'client-secret': SECRET_ON_COMMAND_LINE },
  },
  enable: { args: '<name>', summary: 'let users sign in with the provider again' },
  disable: {
    args: '<name>',
    summary: 'stop sign-in with the provider (refused when it leaves no admin who can sign in)',
  },
  delete: { args: '<name>', summary: 'delete a provider no user signs in with' },
  test: {
    args: '<name>',
    summary: "discover the provider's endpoints; exits 1 with the provider's error when that fails",
  },
});

/** `warden sso`: one subcommand group, `providers` (its own subcommands are listed in its help). */
export const SSO: CommandGroup<'providers'> = {
  name: 'sso',
  summary: 'single sign-on: OpenID Connect providers',
  subcommands: {
    providers: {
      name: 'sso providers',
      args: '<subcommand>',
      summary: `${SSO_PROVIDERS.summary}: ${Object.keys(SSO_PROVIDERS.subcommands).join(', ')}`,
      notes: Object.values<CommandSpec>(SSO_PROVIDERS.subcommands).flatMap((spec, index) => [
        ...(index === 0 ? [] : ['']),
        ...commandUsage(spec).trimEnd().split('\n'),
      ]),
    },
  },
};

const PROVIDER_COLUMNS = ['name', 'displayName', 'preset', 'issuer', 'enabled', 'autoProvision', 'mappings'];

function rowOf(provider: PublicSsoProvider): Record<string, unknown> {
  return { ...provider, mappings: provider.roleMapping.length };
}

function describeProvider(provider: PublicSsoProvider): string {
  const lines = [
    `name:            ${provider.name}`,
    `display name:    ${provider.displayName}`,
    `preset:          ${provider.preset}`,
    `issuer:          ${provider.issuer}`,
    `client id:       ${provider.clientId}`,
    `client secret:   ${provider.clientSecretUnreadable ? 'stored, but unreadable with this WARDEN_SECRET_KEY' : provider.hasClientSecret ? 'stored' : 'none (public client)'}`,
    `scopes:          ${provider.scopes.join(' ')}`,
    `enabled:         ${provider.enabled}`,
    `auto-provision:  ${provider.autoProvision}`,
    `default role:    ${provider.defaultRole}${provider.defaultScopes === null ? '' : ` (${provider.defaultScopes.join(',') || 'no scopes'})`}`,
    `email claim:     ${provider.emailClaim}`,
    `groups claim:    ${provider.groupsClaim || '(none)'}`,
    `redirect URI:    <public URL of Warden>/api/v1/auth/sso/${provider.name}/callback`,
  ];
  if (provider.roleMapping.length > 0) {
    const rows = provider.roleMapping.map((entry) => ({
      value: entry.value,
      role: entry.role,
      scopes: entry.scopes ?? '(defaults)',
    }));
    lines.push('', formatTable(rows, ['value', 'role', 'scopes']).trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

function describeTest(name: string, result: SsoTestResult): string {
  if (!result.ok) return `${name}: discovery failed: ${result.error}\n`;
  const lines = [
    `${name}: ok`,
    `  issuer:                 ${result.issuer}`,
    `  authorization endpoint: ${result.authorizationEndpoint ?? '-'}`,
    `  token endpoint:         ${result.tokenEndpoint ?? '-'}`,
    ...(result.endSessionEndpoint ? [`  end-session endpoint:   ${result.endSessionEndpoint}`] : []),
    ...(result.warnings ?? []).map((warning) => `  warning: ${warning}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** `VALUE=ROLE[:scope,scope]`; the value may hold `=` itself (LDAP DNs), so the last one separates. */
export function parseMapGroup(text: string): { value: string; role: string; scopes?: string[] } {
  const at = text.lastIndexOf('=');
  if (at <= 0) throw new UsageError(`--map-group "${text}": expected VALUE=ROLE[:scope,scope]`);
  const value = text.slice(0, at);
  const [role = '', scopes] = text.slice(at + 1).split(':', 2);
  return {
    value,
    role,
    ...(scopes === undefined
      ? {}
      : {
          scopes: scopes
            .split(',')
            .map((scope) => scope.trim())
            .filter(Boolean),
        }),
  };
}

/** The client secret from stdin or a file, or undefined when neither option is given. */
async function secretFrom(values: Record<string, unknown>, io: CliIo): Promise<string | undefined> {
  const file = optionalString(values, 'client-secret-file');
  const stdin = values['client-secret-stdin'] === true;
  if (file !== undefined && stdin)
    throw new UsageError('give one of --client-secret-stdin, --client-secret-file');
  if (file === undefined && !stdin) return undefined;
  const secret = stdin
    ? await readStdinLine(io.stdin)
    : fs.readFileSync(file as string, 'utf8').replace(/\r?\n$/, '');
  if (secret === '') throw new UsageError('the client secret is empty');
  return secret;
}

/** The fields the settings options name (only those given). */
function settingsFrom(values: Record<string, unknown>): Record<string, unknown> {
  const text = (name: string) => optionalString(values, name);
  const mapping = repeatedStrings(values, 'map-group').map(parseMapGroup);
  const defaultScopes = optionalList(values, 'default-scopes');
  const fields: Record<string, unknown> = {
    preset: text('preset'),
    displayName: text('display-name'),
    issuer: text('issuer'),
    clientId: text('client-id'),
    scopes: optionalList(values, 'scopes'),
    defaultRole: text('default-role'),
    defaultScopes,
    emailClaim: text('email-claim'),
    groupsClaim: text('groups-claim'),
    roleMapping: mapping.length > 0 ? mapping : values['clear-mapping'] === true ? [] : undefined,
    autoProvision:
      values['auto-provision'] === true ? true : values['no-auto-provision'] === true ? false : undefined,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/**
 * `warden sso providers …` (docs/sso.md): the same service, validation and audit (actor `cli`) as the API. The
 * client secret is read from stdin or a file, never from the command line.
 */
export async function ssoCommand(services: Services, argv: readonly string[], io: CliIo): Promise<number> {
  const [group, sub, ...rest] = argv;
  const specs = SSO_PROVIDERS.subcommands;
  if (group !== 'providers' || sub === undefined || !Object.hasOwn(specs, sub)) {
    const unknown = sub === undefined ? '' : `unknown subcommand "sso providers ${sub}"\n\n`;
    throw new UsageError(`${unknown}${groupUsage(SSO_PROVIDERS)}`);
  }
  const admin = services.ssoProviderAdmin;
  switch (sub as keyof typeof specs) {
    case 'list': {
      const { json } = parse(rest, specs.list);
      const result = await admin.list();
      emit(io, json, result, () => formatTable(result.items.map(rowOf), PROVIDER_COLUMNS));
      return 0;
    }
    case 'show': {
      const { positionals, json } = parse(rest, specs.show);
      const provider = await admin.get(requirePositional(positionals, 0, 'name'));
      emit(io, json, provider, () => describeProvider(provider));
      return 0;
    }
    case 'create': {
      const { values, positionals, json } = parse(rest, specs.create);
      const secret = await secretFrom(values, io);
      const input = parseWith(CreateSsoProviderBody, {
        name: requirePositional(positionals, 0, 'name'),
        ...settingsFrom(values),
        ...(secret === undefined ? {} : { clientSecret: secret }),
      });
      const provider = await admin.create(CLI_CONTEXT, input);
      emit(io, json, provider, () => describeProvider(provider));
      return 0;
    }
    case 'update': {
      const { values, positionals, json } = parse(rest, specs.update);
      const name = requirePositional(positionals, 0, 'name');
      const secret = await secretFrom(values, io);
      if (values['public-client'] === true && secret !== undefined) {
        throw new UsageError('--public-client removes the client secret: give no new one with it');
      }
      const input = parseWith(UpdateSsoProviderBody, {
        ...settingsFrom(values),
        ...(secret === undefined ? {} : { clientSecret: secret }),
        ...(values['public-client'] === true ? { clientSecret: null } : {}),
      });
      const provider = await admin.update(CLI_CONTEXT, name, input);
      emit(io, json, provider, () => describeProvider(provider));
      return 0;
    }
    case 'enable':
    case 'disable': {
      const { positionals, json } = parse(rest, specs[sub as 'enable' | 'disable']);
      const name = requirePositional(positionals, 0, 'name');
      const provider = await admin.update(CLI_CONTEXT, name, { enabled: sub === 'enable' });
      emit(io, json, provider, () => formatTable([rowOf(provider)], PROVIDER_COLUMNS));
      return 0;
    }
    case 'delete': {
      const { positionals, json } = parse(rest, specs.delete);
      const name = requirePositional(positionals, 0, 'name');
      await admin.remove(CLI_CONTEXT, name);
      emit(io, json, { deleted: name }, () => `Deleted SSO provider ${name}\n`);
      return 0;
    }
    case 'test': {
      const { positionals, json } = parse(rest, specs.test);
      const name = requirePositional(positionals, 0, 'name');
      const result = await admin.test(name);
      emit(io, json, result, () => describeTest(name, result));
      return result.ok ? 0 : 1;
    }
  }
}
