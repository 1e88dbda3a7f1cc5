import { AppError } from './core/errors/app-error.js';
import { SYSTEM_CONTEXT } from './modules/permissions/operation-context.js';
import { defaultScopes } from './modules/permissions/permissions.policy.js';
import type { Services } from './services.js';

export const ROOT_USERNAME = 'admin';

export type RootBootstrap =
  | { created: false }
  | { created: true; username: string; generatedPassword: string | null };

/**
 * At first start create the protected root user `admin` (docs/permissions.md). Its password is WARDEN_ADMIN_PASSWORD, or a
 * generated one that must be changed at first login and that the caller prints exactly once. A restart finds the
 * protected user and does nothing.
 */
export async function ensureRootUser(
  services: Services,
  adminPassword: string | null,
): Promise<RootBootstrap> {
  if (await services.userReader.findRoot()) return { created: false };
  const root = {
    username: ROOT_USERNAME,
    role: 'admin',
    scopes: defaultScopes('admin'),
    description: 'Root user (break-glass)',
  } as const;
  let generatedPassword: string | null = null;
  try {
    if (adminPassword === null) {
      // A person's generated password: argon2id, to be changed at the first login.
      ({ password: generatedPassword } = await services.users.createGenerated(SYSTEM_CONTEXT, root, {
        protected: true,
      }));
    } else {
      await services.users.create(SYSTEM_CONTEXT, { ...root, password: adminPassword }, { protected: true });
    }
  } catch (error) {
    // Another instance sharing the database created it first: that is fine.
    if (error instanceof AppError && error.code === 'user.exists') return { created: false };
    throw error;
  }
  return { created: true, username: ROOT_USERNAME, generatedPassword };
}
