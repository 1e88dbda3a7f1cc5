import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { DomainEventBus } from '../../core/events.js';
import { AddressList, invalidCidrs } from '../../core/net/address-list.js';
import { parseWith } from '../../core/validation.js';
import type { ChangeFeed } from '../../db/change-feed/change-feed.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OperationContext } from '../permissions/operation-context.js';
import { settingsError } from './settings.errors.js';
import {
  DEFAULT_SECURITY_SETTINGS,
  type SecuritySettings,
  SecuritySettingsInputSchema,
} from './settings.schemas.js';

const SECURITY_KEY = 'security';

export interface SettingsService {
  getSecurity(db?: Kysely<Database>): Promise<SecuritySettings>;
  /**
   * Replaces the security settings; validated, audited with before/after. A missing `mqtt` or `apiAllowFrom`
   * keeps its value. A signed-in user cannot set an `apiAllowFrom` that excludes the address of their own
   * request (`settings.locks_out_requester`); the CLI on the host can (the break-glass).
   */
  putSecurity(ctx: OperationContext, value: unknown): Promise<SecuritySettings>;
  /**
   * The security settings as this process last read them, for hot paths that cannot wait for the database (the
   * embedded broker's PUBLISH check). Current once {@link SettingsService.follow} has run; the defaults before.
   */
  cachedSecurity(): SecuritySettings;
  /**
   * Reads the settings into the cache now, and again on every committed change (`settings.changed`, from this
   * process, the CLI or another instance) and after a feed reset. Returns the stop function.
   */
  follow(events: DomainEventBus): Promise<() => void>;
}

/** Stored documents are merged over the defaults, so settings added in a later release get their default. */
function mergeDefaults(stored: Partial<SecuritySettings>): SecuritySettings {
  return {
    ...DEFAULT_SECURITY_SETTINGS,
    ...stored,
    passwordPolicy: { ...DEFAULT_SECURITY_SETTINGS.passwordPolicy, ...stored.passwordPolicy },
    throttle: { ...DEFAULT_SECURITY_SETTINGS.throttle, ...stored.throttle },
    mqtt: { ...DEFAULT_SECURITY_SETTINGS.mqtt, ...stored.mqtt },
    apiAllowFrom: stored.apiAllowFrom ?? DEFAULT_SECURITY_SETTINGS.apiAllowFrom,
  };
}

/**
 * Every entry must be a CIDR or an address, and a request made over the API must still be allowed afterwards
 * (a user would otherwise lock themselves, and maybe everyone, out). The CLI has no address: it is the way back.
 */
function checkApiAllowFrom(ctx: OperationContext, list: readonly string[] | undefined): void {
  if (list === undefined || list.length === 0) return;
  const invalid = invalidCidrs(list);
  if (invalid.length > 0) {
    throw settingsError('settings.invalid', `Not a CIDR or address: ${invalid.join(', ')}`, {
      errors: invalid.map((entry) => ({
        pointer: `/apiAllowFrom/${list.indexOf(entry)}`,
        message: 'must be a CIDR (10.0.0.0/8, 2001:db8::/32) or an address',
      })),
    });
  }
  if (ctx.actor.type === 'user' && !new AddressList(list).contains(ctx.ip)) {
    throw settingsError(
      'settings.locks_out_requester',
      `Your address ${ctx.ip} would not be allowed; add it to apiAllowFrom`,
    );
  }
}

export function createSettingsService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  changes: Pick<ChangeFeed, 'record' | 'settled'>;
}): SettingsService {
  let cached: SecuritySettings = DEFAULT_SECURITY_SETTINGS;
  /** Numbers the reads into the cache: a slower, older read never overwrites a newer one. */
  let reads = 0;

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

  async function refresh(): Promise<void> {
    const read = ++reads;
    const current = await getSecurity();
    if (read === reads) cached = current;
  }

  return {
    getSecurity,

    async putSecurity(ctx, value) {
      const parsed = parseWith(SecuritySettingsInputSchema, value, (errors) =>
        settingsError('settings.invalid', undefined, { errors }),
      );
      checkApiAllowFrom(ctx, parsed.apiAllowFrom);
      let next: SecuritySettings = {
        ...parsed,
        mqtt: parsed.mqtt ?? DEFAULT_SECURITY_SETTINGS.mqtt,
        apiAllowFrom: parsed.apiAllowFrom ?? DEFAULT_SECURITY_SETTINGS.apiAllowFrom,
      };
      await deps.db.transaction().execute(async (trx) => {
        const before = await getSecurity(trx);
        // A client that predates `mqtt` or `apiAllowFrom` must not quietly undo what an operator set there.
        if (parsed.mqtt === undefined) next = { ...next, mqtt: before.mqtt };
        if (parsed.apiAllowFrom === undefined) next = { ...next, apiAllowFrom: before.apiAllowFrom };
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

    cachedSecurity: () => cached,

    async follow(events) {
      // Listening first: a change committed while the first read runs is read again.
      const offChanged = events.on('settings.changed', ({ key }) =>
        key === SECURITY_KEY ? refresh() : undefined,
      );
      const offReset = events.on('feed.reset', refresh);
      await refresh();
      return () => {
        offChanged();
        offReset();
      };
    },
  };
}
