import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001-core.js';
import * as m002 from './002-access.js';
import * as m003 from './003-user-list.js';
import * as m004 from './004-brokers.js';
import * as m005 from './005-user-mfa.js';
import * as m006 from './006-change-feed.js';
import * as m007 from './007-duty-holders.js';
import * as m008 from './008-user-secrets.js';
import * as m009 from './009-api-keys.js';
import * as m010 from './010-scrape-tokens.js';
import * as m011 from './011-sso.js';
import * as m012 from './012-client-registry.js';
import * as m013 from './013-certificate-authority.js';
import * as m014 from './014-sso-sessions.js';

/**
 * The one migration set for both engines, listed statically so it works the same from `src` (tsx, tests) and
 * from the compiled `dist`. Append new migrations; never edit a released one.
 */
const MIGRATIONS: Record<string, Migration> = {
  '001-core': m001,
  '002-access': m002,
  '003-user-list': m003,
  '004-brokers': m004,
  '005-user-mfa': m005,
  '006-change-feed': m006,
  '007-duty-holders': m007,
  '008-user-secrets': m008,
  '009-api-keys': m009,
  '010-scrape-tokens': m010,
  '011-sso': m011,
  '012-client-registry': m012,
  '013-certificate-authority': m013,
  '014-sso-sessions': m014,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
