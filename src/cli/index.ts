import { loadConfig } from '../config/config.js';
import { migrateToLatest, openDatabase } from '../db/database.js';
import type { MissedPasswordPush } from '../modules/brokers/broker-runtime.js';
import { openRuntime } from '../runtime.js';
import type { Services } from '../services.js';
import { type CommandGroup, type CommandSpec, parse, wantsHelp } from './args.js';
import { ACCESS, accessCommand } from './commands/access.command.js';
import { ACCESS_ROLES, accessRolesCommand } from './commands/access-roles.command.js';
import { API_KEYS, apiKeysCommand } from './commands/api-keys.command.js';
import { BROKERS, brokersCommand } from './commands/brokers.command.js';
import { MOSQUITTO, mosquittoCommand } from './commands/mosquitto.command.js';
import { MQTT_TOKEN, mqttTokenCommand } from './commands/mqtt-token.command.js';
import { RECOVER_ADMIN, recoverAdminCommand } from './commands/recover-admin.command.js';
import { REGISTRY, registryCommand } from './commands/registry.command.js';
import { SCRAPE_TOKENS, scrapeTokensCommand } from './commands/scrape-tokens.command.js';
import { SERVE, serveCommand } from './commands/serve.command.js';
import { SESSIONS, sessionsCommand } from './commands/sessions.command.js';
import { SETTINGS, settingsCommand } from './commands/settings.command.js';
import { SSO, ssoCommand } from './commands/sso.command.js';
import { USERS, usersCommand } from './commands/users.command.js';
import { type CliIo, processIo, reportError, UsageError } from './output.js';
import { commandUsage, groupUsage, mainUsage } from './usage.js';

const MIGRATE: CommandSpec = {
  name: 'migrate',
  summary: 'bring the database schema up to date (warden serve does it too)',
  json: false,
};

type ServiceCommand = (services: Services, argv: readonly string[], io: CliIo) => Promise<number>;

/** Commands that run against the database with the same services (and audit actor `cli`) as the API. */
const SERVICE_COMMANDS: Record<string, { usage: CommandSpec | CommandGroup; run: ServiceCommand }> = {
  users: { usage: USERS, run: usersCommand },
  'recover-admin': { usage: RECOVER_ADMIN, run: recoverAdminCommand },
  'access-roles': { usage: ACCESS_ROLES, run: accessRolesCommand },
  access: { usage: ACCESS, run: accessCommand },
  sessions: { usage: SESSIONS, run: sessionsCommand },
  settings: { usage: SETTINGS, run: settingsCommand },
  brokers: { usage: BROKERS, run: brokersCommand },
  mosquitto: { usage: MOSQUITTO, run: mosquittoCommand },
  'api-keys': { usage: API_KEYS, run: apiKeysCommand },
  'scrape-tokens': { usage: SCRAPE_TOKENS, run: scrapeTokensCommand },
  'mqtt-token': { usage: MQTT_TOKEN, run: mqttTokenCommand },
  sso: { usage: SSO, run: ssoCommand },
  registry: { usage: REGISTRY, run: registryCommand },
};

/** Every command in the order `warden --help` lists them. */
const USAGE = mainUsage([
  SERVE,
  MIGRATE,
  USERS,
  RECOVER_ADMIN,
  ACCESS_ROLES,
  ACCESS,
  SESSIONS,
  SETTINGS,
  BROKERS,
  MOSQUITTO,
  API_KEYS,
  SCRAPE_TOKENS,
  MQTT_TOKEN,
  SSO,
  REGISTRY,
]);

/**
 * The text for `warden <command> [<subcommand>] --help`; null for an unknown command. Answered before anything
 * opens the database, so help works without configuration.
 */
function helpFor(command: string, sub: string | undefined): string | null {
  const usage =
    command === 'serve' ? SERVE : command === 'migrate' ? MIGRATE : SERVICE_COMMANDS[command]?.usage;
  if (usage === undefined) return null;
  if (!('subcommands' in usage)) return commandUsage(usage);
  const spec =
    sub !== undefined && Object.hasOwn(usage.subcommands, sub) ? usage.subcommands[sub] : undefined;
  if (spec) return commandUsage(spec);
  if (sub === undefined || sub.startsWith('-')) return groupUsage(usage);
  throw new UsageError(`unknown subcommand "${command} ${sub}"\n\n${groupUsage(usage)}`);
}

/** The password itself is never part of it: the user has to set a new one anyway. */
function missedPushWarning({ integration, username, error }: MissedPasswordPush): string {
  return (
    `warning: the new password of ${username} did not reach broker integration "${integration}" (${error}); ` +
    `${username} stays listed in its pendingPasswords and cannot log in to that broker until the password ` +
    'is set again while the broker is reachable\n'
  );
}

/** Runs one CLI invocation; returns the exit code (tests call this in-process). */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes('--json');
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (wantsHelp(rest)) {
      const help = helpFor(command, rest[0]);
      if (help === null) throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
      io.stdout(help);
      return 0;
    }
    if (command === 'serve') return await serveCommand(rest, io);
    if (command === 'migrate') {
      parse(rest, MIGRATE);
      const config = loadConfig(io.env);
      const handle = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        const applied = await migrateToLatest(handle.db);
        io.stdout(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Schema is up to date\n');
      } finally {
        await handle.close();
      }
      return 0;
    }
    const entry = SERVICE_COMMANDS[command];
    if (!entry) throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
    const { usage, run } = entry;
    // A missing or mistyped subcommand is a usage error before anything opens the database.
    if ('subcommands' in usage && !Object.hasOwn(usage.subcommands, rest[0] ?? '')) {
      const unknown = rest[0] === undefined ? '' : `unknown subcommand "${command} ${rest[0]}"\n\n`;
      throw new UsageError(`${unknown}${groupUsage(usage)}`);
    }
    const runtime = await openRuntime(loadConfig(io.env));
    // No integration runs here, so a password this command sets has to reach the brokers before it exits.
    runtime.services.brokers.enableOneOffPasswordPushes((missed) => io.stderr(missedPushWarning(missed)));
    try {
      return await run(runtime.services, rest, io);
    } finally {
      await runtime.close();
    }
  } catch (error) {
    return reportError(io, json, error);
  }
}
