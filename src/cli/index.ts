import { loadConfig } from '../config/config.js';
import { migrateToLatest, openDatabase } from '../db/database.js';
import type { MissedPasswordPush } from '../modules/brokers/broker-runtime.js';
import { openRuntime } from '../runtime.js';
import type { Services } from '../services.js';
import { ACCESS_USAGE, accessCommand } from './commands/access.command.js';
import { ACCESS_ROLES_USAGE, accessRolesCommand } from './commands/access-roles.command.js';
import { BROKERS_USAGE, brokersCommand } from './commands/brokers.command.js';
import { MOSQUITTO_USAGE, mosquittoCommand } from './commands/mosquitto.command.js';
import { recoverAdminCommand } from './commands/recover-admin.command.js';
import { serveCommand } from './commands/serve.command.js';
import { SESSIONS_USAGE, sessionsCommand } from './commands/sessions.command.js';
import { SETTINGS_USAGE, settingsCommand } from './commands/settings.command.js';
import { USERS_USAGE, usersCommand } from './commands/users.command.js';
import { type CliIo, processIo, reportError, UsageError } from './output.js';

const USAGE = `Usage: warden <command>

  serve                       start the API, console and embedded MQTT broker
  migrate                     bring the database schema up to date
  users ...                   manage users (see below)
  recover-admin               break-glass: new root password, reactivate root, clear its MFA
  access-roles ...            manage MQTT access roles and their rules (see below)
  access ...                  explain MQTT decisions, show a user's effective rules (see below)
  sessions ...                list and end console sessions
  settings ...                read and change the security settings
  brokers ...                 external broker integrations (see below, docs/brokers.md)
  mosquitto ...               Mosquitto dynamic-security sync and export

${USERS_USAGE}

${ACCESS_ROLES_USAGE}

${ACCESS_USAGE}

${SESSIONS_USAGE}

${SETTINGS_USAGE}

${BROKERS_USAGE}

${MOSQUITTO_USAGE}

Configuration comes from the environment (see docs/config.md). Add --json for machine-readable output.
`;

type ServiceCommand = (services: Services, argv: readonly string[], io: CliIo) => Promise<number>;

/** Commands that run against the database with the same services (and audit actor `cli`) as the API. */
const SERVICE_COMMANDS: Record<string, ServiceCommand> = {
  users: usersCommand,
  'recover-admin': recoverAdminCommand,
  'access-roles': accessRolesCommand,
  access: accessCommand,
  sessions: sessionsCommand,
  settings: settingsCommand,
  brokers: brokersCommand,
  mosquitto: mosquittoCommand,
};

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
    if (command === 'serve') return await serveCommand(rest, io);
    if (command === 'migrate') {
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
    const run = SERVICE_COMMANDS[command];
    if (!run) throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
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
