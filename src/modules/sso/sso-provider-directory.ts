import type { Kysely } from 'kysely';
import type { SecretBox } from '../../core/crypto/secret-box.js';
import type { Database } from '../../db/schema.js';
import { type SsoProviderConfig, toProviderConfig } from './sso-provider-config.js';
import { findSsoProvider, listSsoProviders } from './sso-providers.repository.js';

/**
 * Read access to the configured providers for the modules that use them (sign-in, users' authentication method,
 * MQTT tokens). The table holds a handful of rows and each read is one indexed query, so nothing is cached here:
 * a disabled or deleted provider stops at its next use on every instance.
 */
export interface SsoProviderDirectory {
  /** The provider called `name`, enabled or not, or undefined. */
  find(name: string, db?: Kysely<Database>): Promise<SsoProviderConfig | undefined>;
  /** The enabled providers, by name. */
  listEnabled(db?: Kysely<Database>): Promise<SsoProviderConfig[]>;
}

export function createSsoProviderDirectory(deps: {
  db: Kysely<Database>;
  secretBox: SecretBox;
}): SsoProviderDirectory {
  return {
    async find(name, db = deps.db) {
      const row = await findSsoProvider(db, name);
      return row && toProviderConfig(row, deps.secretBox);
    },
    async listEnabled(db = deps.db) {
      const rows = await listSsoProviders(db);
      return rows.filter((row) => row.enabled === 1).map((row) => toProviderConfig(row, deps.secretBox));
    },
  };
}
