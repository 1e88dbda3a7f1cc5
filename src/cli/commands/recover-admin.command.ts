import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import type { Services } from '../../services.js';
import { type CommandSpec, parse } from '../args.js';
import { type CliIo, emit } from '../output.js';

export const RECOVER_ADMIN: CommandSpec = {
  name: 'recover-admin',
  summary: 'break-glass: new root password (printed once), root reactivated, its MFA cleared, sessions ended',
  notes: [
    'Run it on the host, with the same environment as warden serve. The new password must be changed at login.',
  ],
};

/**
 * Break-glass (docs/permissions.md#break-glass): new root password (printed once), root reactivated, its MFA
 * cleared.
 */
export async function recoverAdminCommand(
  services: Services,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const { json } = parse(argv, RECOVER_ADMIN);
  const { user, password } = await services.users.recoverRoot(CLI_CONTEXT);
  emit(io, json, { username: user.username, password, mustChangePassword: true }, () =>
    [
      `Root user "${user.username}" recovered: reactivated, MFA cleared, sessions ended.`,
      `New password (shown once, must be changed at next login): ${password}`,
      '',
    ].join('\n'),
  );
  return 0;
}
