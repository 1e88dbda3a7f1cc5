import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import { toIso } from '../../core/clock.js';
import type { CredentialHasher } from '../../core/crypto/credential-hasher.js';
import { generateOpaqueSecret } from '../../core/crypto/generated-secret.js';
import { prefixedTokenVerifier } from '../../core/crypto/prefixed-token.js';
import { fallbackLogger } from '../../core/logging/logger.js';
import type { Database } from '../../db/schema.js';
import { type AuditService, changedFields } from '../audit/audit.service.js';
import type { OperationContext } from '../permissions/operation-context.js';
import {
  type Actor,
  actorName,
  authorize,
  canActOn,
  canGrant,
  incompatibleScopes,
  isPrincipal,
  normalizeScopes,
  parseRole,
  type Role,
  reduceRights,
  type Scope,
} from '../permissions/permissions.policy.js';
import { enforce } from '../permissions/refusal.js';
import type { ThrottleService } from '../throttle/throttle.service.js';
import { policyTarget } from '../users/users.mapper.js';
import type { UserReader } from '../users/users.reader.js';
import type { UserRow } from '../users/users.table.js';
import { API_KEY, API_KEY_SECRET_BYTES } from './api-key-token.js';
import { apiKeyError } from './api-keys.errors.js';
import {
  type ApiKeyWithOwner,
  deleteApiKey,
  findApiKey,
  findApiKeyWithOwner,
  insertApiKey,
  listApiKeys,
  updateApiKey,
  writeLastUsed,
} from './api-keys.repository.js';
import type {
  ApiKeyList,
  CreateApiKeyInput,
  CreatedApiKey,
  ListApiKeysInput,
  PublicApiKey,
  UpdateApiKeyInput,
} from './api-keys.schemas.js';
import { createLastUsedBatch } from './last-used.js';

/** The actor of a request made with an API key. */
export type ApiKeyActor = Extract<Actor, { type: 'apikey' }>;

export type ApiKeysService = ReturnType<typeof createApiKeysService>;

/** How many throttled addresses this process remembers (only addresses that spent their budget are kept). */
const MAX_BLOCKED_ADDRESSES = 10_000;

function keyTarget(id: string): string {
  return `api_key:${id}`;
}

function toPublicApiKey(row: ApiKeyWithOwner): PublicApiKey {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    owner: row.owner_username,
    role: parseRole(row.role) ?? 'viewer',
    scopes: JSON.parse(row.scopes) as Scope[],
    expiresAt: toIso(row.expires_at),
    enabled: row.enabled === 1,
    lastUsedAt: toIso(row.last_used_at),
    createdAt: toIso(row.created_at),
    createdBy: row.created_by,
  };
}

/** What the audit log keeps of a key: everything but the secret and the times. */
function snapshot(key: PublicApiKey) {
  const { lastUsedAt: _l, createdAt: _c, ...kept } = key;
  return kept;
}

function rightsOf(row: { role: string; scopes: string }): { role: Role; scopes: Scope[] } {
  return { role: parseRole(row.role) ?? 'viewer', scopes: JSON.parse(row.scopes) as Scope[] };
}

/**
 * API keys (docs/api-keys.md): managed through the API, console and CLI, each change one transaction with its
 * audit event; and the authentication of `Authorization: Bearer` requests. A key is found by the id inside it
 * (primary key) and its secret verified with the keyed fast hash in constant time; its rights are reduced by
 * its owner's at every request. Nothing about a key is cached: every request reads the key and its owner (two
 * primary-key reads, as a session does), so a disabled, expired or deleted key, or a deactivated, deleted or
 * demoted owner, applies at the next request on every instance without following the change feed.
 */
export function createApiKeysService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  credentials: CredentialHasher;
  users: UserReader;
  throttle: Pick<ThrottleService, 'addressFailed' | 'throttledUntil'>;
}) {
  const { db, clock, audit, credentials } = deps;
  const lastUsed = createLastUsedBatch((times) => writeLastUsed(db, times));
  const findVerified = prefixedTokenVerifier(API_KEY, credentials, API_KEY_SECRET_BYTES);
  /** Addresses whose budget of failed keys is spent, until when (this process's memo of the throttle). */
  const blockedAddresses = new Map<string, number>();

  async function mustFind(trx: Kysely<Database>, id: string): Promise<ApiKeyWithOwner> {
    const row = await findApiKeyWithOwner(trx, id);
    if (!row) throw apiKeyError('api_key.not_found', `No API key has the id "${id}"`);
    return row;
  }

  /**
   * Acting on another user's keys needs what acting on that user needs: `user_management` and not being
   * outranked by it (docs/permissions.md). One's own keys need neither.
   */
  function enforceMayManageKeysOf(actor: Actor, owner: UserRow): void {
    if (isPrincipal(actor) && actor.userId === owner.id) return;
    enforce(authorize(actor, 'active', { kind: 'write', scope: 'user_management' }));
    enforce(canActOn(actor, policyTarget(owner)));
  }

  /** The rights a key is given: compatible with its role, held by the actor, and within its owner's. */
  function checkRights(actor: Actor, owner: UserRow, role: Role, scopes: Scope[], added: Scope[]): void {
    const bad = incompatibleScopes(role, scopes);
    if (bad.length > 0) {
      throw apiKeyError('api_key.scopes_incompatible', `Role ${role} cannot hold ${bad.join(', ')}`, {
        errors: bad.map((scope) => ({ pointer: '/body/scopes', message: `${role} cannot hold ${scope}` })),
      });
    }
    enforce(canGrant(actor, role, added));
    const within = reduceRights({ role, scopes }, rightsOf(owner));
    if (within.role !== role || within.scopes.length !== scopes.length) {
      throw apiKeyError(
        'api_key.exceeds_owner',
        `${owner.username} holds the role ${owner.role} and the scopes ${rightsOf(owner).scopes.join(', ') || 'none'}`,
      );
    }
  }

  function expiryOf(value: string | null | undefined, now: number): number | null {
    if (value === undefined || value === null) return null;
    const at = Date.parse(value);
    if (!(at > now)) throw apiKeyError('api_key.expiry_in_past', 'expiresAt must lie in the future');
    return at;
  }

  function ownerNameOf(ctx: OperationContext, owner: string | undefined): string {
    if (owner !== undefined) return owner;
    if (isPrincipal(ctx.actor)) return ctx.actor.username;
    throw apiKeyError('api_key.owner_required', 'Name the owner of the key');
  }

  /** The owner's row when the key is usable now, else null. */
  async function usableOwner(
    row: { enabled: number; expires_at: number | null; owner_id: string },
    now: number,
  ): Promise<UserRow | null> {
    if (row.enabled !== 1 || (row.expires_at !== null && now >= row.expires_at)) return null;
    const owner = await deps.users.findRowById(row.owner_id);
    return owner && owner.active === 1 && owner.kind !== 'device' ? owner : null;
  }

  /** The actor of a presented key, or null for any kind of invalid key (the caller cannot tell which). */
  async function resolve(presented: string, now: number): Promise<ApiKeyActor | null> {
    const row = await findVerified(
      presented,
      (id) => findApiKey(db, id),
      (key) => key.secret_hash,
    );
    if (!row) return null;
    const owner = await usableOwner(row, now);
    if (!owner) return null;
    const rights = reduceRights(rightsOf(row), rightsOf(owner));
    return {
      type: 'apikey',
      keyId: row.id,
      userId: owner.id,
      username: owner.username,
      role: rights.role,
      scopes: rights.scopes,
    };
  }

  function rememberBlocked(ip: string, until: number, now: number): void {
    if (blockedAddresses.size >= MAX_BLOCKED_ADDRESSES) {
      for (const [address, end] of blockedAddresses) if (end <= now) blockedAddresses.delete(address);
    }
    if (blockedAddresses.size < MAX_BLOCKED_ADDRESSES) blockedAddresses.set(ip, until);
  }

  return {
    /**
     * The actor of an `Authorization: Bearer` key, or 401 auth.invalid_api_key — one answer for every kind of
     * invalid key. A failure counts against the address's budget (429 auth.throttled once spent); a valid key
     * writes nothing but its last-use time in memory.
     */
    async authenticate(presented: string, ip: string): Promise<ApiKeyActor> {
      const now = clock.now();
      const blockedUntil = blockedAddresses.get(ip);
      if (blockedUntil !== undefined) {
        if (now < blockedUntil) throw deps.throttle.throttledUntil(blockedUntil);
        blockedAddresses.delete(ip);
      }
      const actor = await resolve(presented, now);
      if (actor) {
        lastUsed.touch(actor.keyId, now);
        return actor;
      }
      const spentUntil = await deps.throttle.addressFailed('api_key', ip);
      if (spentUntil > now) rememberBlocked(ip, spentUntil, now);
      throw apiKeyError('auth.invalid_api_key', 'The API key is not valid');
    },

    async list(input: ListApiKeysInput): Promise<ApiKeyList> {
      const page = input.page ?? 1;
      const pageSize = input.pageSize ?? 25;
      const { rows, total } = await listApiKeys(
        db,
        input.owner === undefined ? {} : { ownerUsername: input.owner },
        { limit: pageSize, offset: (page - 1) * pageSize },
      );
      return { items: rows.map(toPublicApiKey), total, page, pageSize };
    },

    async get(id: string): Promise<PublicApiKey> {
      return toPublicApiKey(await mustFind(db, id));
    },

    /** Creates a key; the answer holds the key itself, which is never shown again. */
    async create(ctx: OperationContext, input: CreateApiKeyInput): Promise<CreatedApiKey> {
      const ownerName = ownerNameOf(ctx, input.owner);
      const secret = generateOpaqueSecret(API_KEY_SECRET_BYTES);
      const { id, token: key } = API_KEY.issue(secret);
      return audit.refusable(ctx, { action: 'api_key.create', target: keyTarget(id) }, () =>
        db.transaction().execute(async (trx) => {
          const owner = await deps.users.mustFindRow(ownerName, trx);
          if (owner.kind === 'device') {
            throw apiKeyError('api_key.owner_not_allowed', `${owner.username} is a device`);
          }
          enforceMayManageKeysOf(ctx.actor, owner);
          const role = parseRole(input.role) ?? 'viewer';
          const scopes = normalizeScopes(input.scopes);
          checkRights(ctx.actor, owner, role, scopes, scopes);
          const now = clock.now();
          await insertApiKey(trx, {
            id,
            name: input.name,
            description: input.description ?? '',
            owner_id: owner.id,
            role,
            scopes: JSON.stringify(scopes),
            secret_hash: credentials.hashGenerated(secret),
            expires_at: expiryOf(input.expiresAt, now),
            enabled: input.enabled === false ? 0 : 1,
            last_used_at: null,
            created_at: now,
            created_by: actorName(ctx.actor),
            updated_at: now,
          });
          const created = toPublicApiKey(await mustFind(trx, id));
          await audit.record(trx, ctx, {
            action: 'api_key.create',
            target: keyTarget(id),
            details: { after: snapshot(created) },
          });
          return { ...created, key };
        }),
      );
    },

    /** Changes name, description, role, scopes, expiry or enabled; audited with before and after. */
    async update(ctx: OperationContext, id: string, input: UpdateApiKeyInput): Promise<PublicApiKey> {
      return audit.refusable(ctx, { action: 'api_key.update', target: keyTarget(id) }, () =>
        db.transaction().execute(async (trx) => {
          const before = await mustFind(trx, id);
          const owner = await deps.users.findRowById(before.owner_id, trx);
          if (!owner) throw apiKeyError('api_key.not_found', `No API key has the id "${id}"`);
          enforceMayManageKeysOf(ctx.actor, owner);
          const current = rightsOf(before);
          const role = input.role === undefined ? current.role : (parseRole(input.role) ?? 'viewer');
          const scopes = normalizeScopes(input.scopes ?? current.scopes);
          if (role !== current.role || input.scopes !== undefined) {
            // As for users: a new role must be one the actor holds, and every scope added one it holds.
            const added = scopes.filter((scope) => !current.scopes.includes(scope));
            checkRights(ctx.actor, owner, role, scopes, added);
            if (role !== current.role) enforce(canGrant(ctx.actor, role, []));
          }
          const now = clock.now();
          await updateApiKey(trx, id, {
            role,
            scopes: JSON.stringify(scopes),
            ...(input.name === undefined ? {} : { name: input.name }),
            ...(input.description === undefined ? {} : { description: input.description }),
            ...(input.expiresAt === undefined ? {} : { expires_at: expiryOf(input.expiresAt, now) }),
            ...(input.enabled === undefined ? {} : { enabled: input.enabled ? 1 : 0 }),
            updated_at: now,
          });
          const after = toPublicApiKey(await mustFind(trx, id));
          const changes = changedFields(snapshot(toPublicApiKey(before)), snapshot(after), [
            'name',
            'description',
            'role',
            'scopes',
            'expiresAt',
            'enabled',
          ]);
          if (changes) {
            await audit.record(trx, ctx, {
              action: 'api_key.update',
              target: keyTarget(id),
              details: changes,
            });
          }
          return after;
        }),
      );
    },

    /** Deletes a key: it stops at the next request. */
    async remove(ctx: OperationContext, id: string): Promise<void> {
      await audit.refusable(ctx, { action: 'api_key.delete', target: keyTarget(id) }, () =>
        db.transaction().execute(async (trx) => {
          const row = await mustFind(trx, id);
          const owner = await deps.users.findRowById(row.owner_id, trx);
          if (owner) enforceMayManageKeysOf(ctx.actor, owner);
          await deleteApiKey(trx, id);
          await audit.record(trx, ctx, {
            action: 'api_key.delete',
            target: keyTarget(id),
            details: { before: snapshot(toPublicApiKey(row)) },
          });
        }),
      );
    },

    /** Writes the last-use times gathered so far (also every minute once started, and at stop). */
    flushLastUsed(): Promise<void> {
      return lastUsed.flush();
    },

    /**
     * Starts the periodic flush of last-use times (a failed write is logged and retried with the next batch);
     * the returned function stops it after a final flush.
     */
    start(options: { logger?: Logger } = {}): () => Promise<void> {
      const logger = options.logger ?? fallbackLogger();
      return lastUsed.start((error) =>
        logger.warn({ err: error }, 'api keys: last-use times not written yet'),
      );
    },
  };
}
