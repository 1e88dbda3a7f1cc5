import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { parseWith } from '../../core/validation.js';
import type { ChangeFeed } from '../../db/change-feed/change-feed.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OperationContext } from '../permissions/operation-context.js';
import { settingsError } from './settings.errors.js';
import {
  DEFAULT_SECURITY_SETTINGS,
  type SecuritySettings,
  SecuritySettingsSchema,
} from './settings.schemas.js';

const SECURITY_KEY = 'security';

export interface SettingsService {
  getSecurity(db?: Kysely<Database>): Promise<SecuritySettings>;
  /** Replaces the security settings; validated, audited with before/after. */
  putSecurity(ctx: OperationContext, value: unknown): Promise<SecuritySettings>;
}

/** Stored documents are merged over the defaults, so settings added in a later release get their default. */
function mergeDefaults(stored: Partial<SecuritySettings>): SecuritySettings {
  return {
    ...DEFAULT_SECURITY_SETTINGS,
    ...stored,
    passwordPolicy: { ...DEFAULT_SECURITY_SETTINGS.passwordPolicy, ...stored.passwordPolicy },
    throttle: { ...DEFAULT_SECURITY_SETTINGS.throttle, ...stored.throttle },
  };
}

export function createSettingsService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  changes: Pick<ChangeFeed, 'record' | 'settled'>;
}): SettingsService {
  async function getSecurity(db: Kysely<Database> = deps.db): Promise<SecuritySettings> {
    const row = await db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', SECURITY_KEY)
      .executeTakeFirst();
    return row
      ? mergeDefaults(JSON.parse(row.value) as Partial<SecuritySettings>)
      : DEFAULT_SECURITY_SETTINGS;
  }

  return {
    getSecurity,

    async putSecurity(ctx, value) {
      const next = parseWith(SecuritySettingsSchema, value, (errors) =>
        settingsError('settings.invalid', undefined, { errors }),
      );
      await deps.db.transaction().execute(async (trx) => {
        const before = await getSecurity(trx);
        const json = JSON.stringify(next);
        const now = deps.clock.now();
        await trx
          .insertInto('settings')
          .values({ key: SECURITY_KEY, value: json, updated_at: now })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value: json, updated_at: now }))
          .execute();
        await deps.audit.record(trx, ctx, {
          action: 'settings.update',
          target: `settings:${SECURITY_KEY}`,
          details: { before, after: next },
        });
        await deps.changes.record(trx, 'settings.changed', { key: SECURITY_KEY });
      });
      await deps.changes.settled();
      return next;
    },
  };
}
