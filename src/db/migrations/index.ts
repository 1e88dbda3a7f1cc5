import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001-core.js';

/**
 * The one migration set for both engines, listed statically so it works the same from `src` (tsx, tests) and
 * from the compiled `dist`. Append new migrations; never edit a released one.
 */
const MIGRATIONS: Record<string, Migration> = {
  '001-core': m001,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
