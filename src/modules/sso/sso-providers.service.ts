import type { Kysely } from 'kysely';
import { type Clock, toIso } from '../../core/clock.js';
import type { SecretBox } from '../../core/crypto/secret-box.js';
import type { ChangeFeed } from '../../db/change-feed/change-feed.js';
import type { Engine } from '../../db/database.js';
import { lockFor } from '../../db/dialects/locks.js';
import { isUniqueViolation } from '../../db/dialects/unique-violation.js';
import type { Database } from '../../db/schema.js';
import { type AuditService, changedFields } from '../audit/audit.service.js';
import type { OperationContext } from '../permissions/operation-context.js';
import { canGrant } from '../permissions/permissions.policy.js';
import { enforce } from '../permissions/refusal.js';
import type { SessionsService } from '../sessions/sessions.service.js';
import { userError } from '../users/users.errors.js';
import type { UserReader } from '../users/users.reader.js';
import { ssoError } from './sso.errors.js';
import type { SsoProviderRow } from './sso.table.js';
import { probe } from './sso-discovery-probe.js';
import { SSO_PRESETS } from './sso-presets.js';
import {
  clientSecretContext,
  type ProviderSettings,
  type SsoProviderConfig,
  toProviderConfig,
} from './sso-provider-config.js';
import { columnsOf, grantsOf, settingsFrom, validate, validateName } from './sso-provider-settings.js';
import {
  deleteSsoProvider,
  findSsoProvider,
  insertSsoProvider,
  listSsoProviders,
  updateSsoProvider,
} from './sso-providers.repository.js';
import type {
  CreateSsoProviderInput,
  PublicSsoProvider,
  SsoProviderList,
  SsoTestResult,
  TestSsoProviderInput,
  UpdateSsoProviderInput,
} from './sso-providers.schemas.js';

export type SsoProvidersService = ReturnType<typeof createSsoProvidersService>;

function providerTarget(name: string): string {
  return `sso_provider:${name}`;
}

function toPublic(row: SsoProviderRow, config: SsoProviderConfig): PublicSsoProvider {
  return {
    name: config.name,
    displayName: config.displayName,
    preset: config.preset,
    issuer: config.issuer,
    clientId: config.clientId,
    hasClientSecret: row.client_secret_sealed !== null,
    clientSecretUnreadable: config.secretUnreadable,
    scopes: [...config.scopes],
    enabled: config.enabled,
    autoProvision: config.autoProvision,
    defaultRole: config.defaultRole,
    defaultScopes: config.defaultScopes === null ? null : [...config.defaultScopes],
    emailClaim: config.emailClaim,
    groupsClaim: config.groupsClaim,
    roleMapping: config.roleMapping.map((entry) => ({
      value: entry.value,
      role: entry.role,
      ...(entry.scopes === undefined ? {} : { scopes: [...entry.scopes] }),
    })),
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

/** What the audit log keeps of a provider: everything but the secret's state and the times. */
function snapshot(provider: PublicSsoProvider) {
  const { hasClientSecret: _h, clientSecretUnreadable: _u, createdAt: _c, updatedAt: _m, ...kept } = provider;
  return kept;
}

const AUDITED_FIELDS = [
  'displayName',
  'preset',
  'issuer',
  'clientId',
  'scopes',
  'enabled',
  'autoProvision',
  'defaultRole',
  'defaultScopes',
  'emailClaim',
  'groupsClaim',
  'roleMapping',
] as const;

/**
 * "Nobody grants what they do not hold" for providers: whoever creates or changes a provider must hold every
 * role and scope it gives its users, before and after the change — otherwise an admin holding only
 * `sso_management` could map its own group to admin, or point an admin-granting provider at its own issuer.
 */
function enforceMayConfigure(
  ctx: OperationContext,
  settings: Pick<ProviderSettings, 'defaultRole' | 'defaultScopes' | 'roleMapping'>,
): void {
  for (const grant of grantsOf(settings)) enforce(canGrant(ctx.actor, grant.role, grant.scopes));
}

/**
 * SSO provider management (docs/sso.md): create, change and delete OpenID Connect providers, each change one
 * transaction with its audit event and a change-feed event, and "test connection" by discovery. The client secret
 * is sealed with the secret box under the provider's name and is write-only: no answer, log or audit event
 * carries it. Users are read through the users module's reader only (how many use a provider; who could still
 * sign in as an admin managing users).
 */
export function createSsoProvidersService(deps: {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  audit: AuditService;
  changes: Pick<ChangeFeed, 'record' | 'settled'>;
  secretBox: SecretBox;
  users: Pick<UserReader, 'countSsoUsers' | 'countUserManagersSigningInWith'>;
  /** Disabling a provider ends the sessions it started (deleting needs it unused: those ended with the switch). */
  sessions: Pick<SessionsService, 'endSessionsFromProvider'>;
}) {
  const { db, clock, audit, secretBox } = deps;

  function configOf(row: SsoProviderRow): SsoProviderConfig {
    return toProviderConfig(row, secretBox);
  }

  async function mustFind(trx: Kysely<Database>, name: string): Promise<SsoProviderRow> {
    const row = await findSsoProvider(trx, name);
    if (!row) throw ssoError('sso.provider_not_found', `No SSO provider is named "${name}"`);
    return row;
  }

  function sealSecret(name: string, secret: string): string {
    return secretBox.seal(Buffer.from(secret, 'utf8'), clientSecretContext(name));
  }

  /**
   * Refuses to disable `name` when that leaves no admin managing users who can sign in: its SSO users stop
   * counting (docs/permissions.md). Under the admin-set lock, so it is serialized with the users module's own
   * last-admin checks (a demotion racing this disable sees its result).
   */
  async function assertUserManagerRemains(trx: Kysely<Database>, name: string): Promise<void> {
    await lockFor(trx, deps.engine, 'admin-set');
    const enabled = (await listSsoProviders(trx)).filter((row) => row.enabled === 1).map((row) => row.name);
    const before = await deps.users.countUserManagersSigningInWith(enabled, trx);
    const after = await deps.users.countUserManagersSigningInWith(
      enabled.filter((provider) => provider !== name),
      trx,
    );
    if (before > 0 && after === 0) {
      throw userError(
        'user.last_admin',
        `Disabling ${name} would leave no active admin with user_management who can sign in; give a local admin user_management first`,
      );
    }
  }

  async function recordChange(
    trx: Kysely<Database>,
    name: string,
    change: 'created' | 'updated' | 'deleted',
  ): Promise<void> {
    await deps.changes.record(trx, 'sso_provider.changed', { name, change });
  }

  return {
    presets() {
      return { items: SSO_PRESETS.map((preset) => ({ ...preset, scopes: [...preset.scopes] })) };
    },

    async list(): Promise<SsoProviderList> {
      const rows = await listSsoProviders(db);
      return { items: rows.map((row) => toPublic(row, configOf(row))), total: rows.length };
    },

    async get(name: string): Promise<PublicSsoProvider> {
      const row = await mustFind(db, name);
      return toPublic(row, configOf(row));
    },

    async create(ctx: OperationContext, input: CreateSsoProviderInput): Promise<PublicSsoProvider> {
      return audit.refusable(
        ctx,
        { action: 'sso_provider.create', target: providerTarget(input.name) },
        async () => {
          validateName(input.name);
          const settings = settingsFrom(input, null, input.name);
          validate(settings);
          enforceMayConfigure(ctx, settings);
          const now = clock.now();
          const created = await db
            .transaction()
            .execute(async (trx) => {
              if (await findSsoProvider(trx, input.name)) {
                throw ssoError('sso.provider_exists', `An SSO provider named "${input.name}" already exists`);
              }
              await insertSsoProvider(trx, {
                name: input.name,
                ...columnsOf(settings),
                client_secret_sealed:
                  input.clientSecret === undefined || input.clientSecret === null
                    ? null
                    : sealSecret(input.name, input.clientSecret),
                created_at: now,
                updated_at: now,
              });
              const row = await mustFind(trx, input.name);
              const provider = toPublic(row, configOf(row));
              await audit.record(trx, ctx, {
                action: 'sso_provider.create',
                target: providerTarget(input.name),
                details: {
                  after: snapshot(provider),
                  credential: row.client_secret_sealed === null ? 'none' : 'set',
                },
              });
              await recordChange(trx, input.name, 'created');
              return provider;
            })
            .catch((error: unknown) => {
              if (isUniqueViolation(error)) {
                throw ssoError('sso.provider_exists', `An SSO provider named "${input.name}" already exists`);
              }
              throw error;
            });
          await deps.changes.settled();
          return created;
        },
      );
    },

    /**
     * Changes the fields `input` names. `clientSecret` omitted keeps the stored secret, null removes it (a public
     * client), a string replaces it. Disabling is refused when it would leave no admin who can sign in.
     */
    async update(
      ctx: OperationContext,
      name: string,
      input: UpdateSsoProviderInput,
    ): Promise<PublicSsoProvider> {
      return audit.refusable(
        ctx,
        { action: 'sso_provider.update', target: providerTarget(name) },
        async () => {
          if (input.name !== undefined && input.name !== name) {
            throw ssoError('sso.name_immutable', `The provider is named "${name}"; its name cannot change`);
          }
          const updated = await db.transaction().execute(async (trx) => {
            const row = await mustFind(trx, name);
            const current = configOf(row);
            const before = toPublic(row, current);
            const settings = settingsFrom(input, current, name);
            validate(settings);
            enforceMayConfigure(ctx, current);
            enforceMayConfigure(ctx, settings);
            const disabling = current.enabled && !settings.enabled;
            if (disabling) await assertUserManagerRemains(trx, name);
            const sealed =
              input.clientSecret === undefined
                ? row.client_secret_sealed
                : input.clientSecret === null
                  ? null
                  : sealSecret(name, input.clientSecret);
            await updateSsoProvider(trx, name, {
              ...columnsOf(settings),
              client_secret_sealed: sealed,
              updated_at: clock.now(),
            });
            const after = await mustFind(trx, name);
            const provider = toPublic(after, configOf(after));
            const changes = changedFields(snapshot(before), snapshot(provider), AUDITED_FIELDS);
            // Whether the secret changed, never what it is (the audit log drops any key naming a secret).
            const credential =
              input.clientSecret === undefined
                ? null
                : input.clientSecret === null
                  ? row.client_secret_sealed === null
                    ? null
                    : 'removed'
                  : row.client_secret_sealed === null
                    ? 'set'
                    : 'replaced';
            if (changes || credential) {
              await audit.record(trx, ctx, {
                action: 'sso_provider.update',
                target: providerTarget(name),
                details: { ...(changes ?? {}), ...(credential ? { credential } : {}) },
              });
              await recordChange(trx, name, 'updated');
            }
            if (disabling) await deps.sessions.endSessionsFromProvider(trx, ctx, name);
            return provider;
          });
          await deps.changes.settled();
          return updated;
        },
      );
    },

    /**
     * Deletes a provider no user signs in with (else 409 sso.provider_in_use). Deleting cannot lock out the last
     * admin: a user managing users through this provider is one of its users, so the deletion is refused anyway.
     */
    async remove(ctx: OperationContext, name: string): Promise<void> {
      await audit.refusable(
        ctx,
        { action: 'sso_provider.delete', target: providerTarget(name) },
        async () => {
          await db.transaction().execute(async (trx) => {
            const row = await mustFind(trx, name);
            const current = configOf(row);
            enforceMayConfigure(ctx, current);
            const users = await deps.users.countSsoUsers(name, trx);
            if (users > 0) {
              throw ssoError(
                'sso.provider_in_use',
                `${users} user${users === 1 ? ' signs' : 's sign'} in with ${name}; switch them to another authentication method first`,
                { extensions: { users } },
              );
            }
            await deleteSsoProvider(trx, name);
            await audit.record(trx, ctx, {
              action: 'sso_provider.delete',
              target: providerTarget(name),
              details: { before: snapshot(toPublic(row, current)) },
            });
            await recordChange(trx, name, 'deleted');
          });
          await deps.changes.settled();
        },
      );
    },

    /** "Test connection" of a stored provider: discovery at its issuer. */
    async test(name: string): Promise<SsoTestResult> {
      const row = await mustFind(db, name);
      const config = configOf(row);
      return probe(config, config);
    },

    /**
     * "Test connection" of an unsaved form, validated as a save would be. With the `name` of a stored provider, the
     * form's omitted fields (the secret above all, which the form never shows) are the stored ones.
     */
    async testDraft(input: TestSsoProviderInput): Promise<SsoTestResult> {
      const row = input.name === undefined ? undefined : await findSsoProvider(db, input.name);
      const stored = row ? configOf(row) : null;
      const name = input.name ?? 'draft';
      const settings = settingsFrom(input, stored, name);
      validate(settings);
      const clientSecret =
        input.clientSecret === undefined ? (stored?.clientSecret ?? null) : input.clientSecret;
      return probe(settings, {
        ...settings,
        name,
        clientSecret,
        secretUnreadable: false,
      });
    },
  };
}
