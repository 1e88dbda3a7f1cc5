import type { Kysely } from 'kysely';
import { type Clock, toIso } from '../../core/clock.js';
import type { CredentialHasher } from '../../core/crypto/credential-hasher.js';
import { generateOpaqueSecret } from '../../core/crypto/generated-secret.js';
import { prefixedTokenVerifier } from '../../core/crypto/prefixed-token.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OperationContext } from '../permissions/operation-context.js';
import { actorName } from '../permissions/permissions.policy.js';
import { registryError } from './registry.errors.js';
import { consumeToken, deleteToken, findToken, insertToken, listTokens } from './registry.repository.js';
import {
  type CreatedToken,
  type CreateTokenInput,
  DEFAULT_TOKEN_DAYS,
  type EnrolmentToken,
  type EnrolmentTokenList,
  MAX_TOKEN_DAYS,
} from './registry.schemas.js';
import type { RegistryTokenRow } from './registry.table.js';
import { ENROLMENT_TOKEN } from './registry-tokens.js';

/** Bytes of a token's random part (256 bits). */
const TOKEN_SECRET_BYTES = 32;
const DAY_MS = 86_400_000;

function tokenTarget(id: string): string {
  return `registry_token:${id}`;
}

function toPublic(row: RegistryTokenRow, now: number): EnrolmentToken {
  return {
    id: row.id,
    name: row.name,
    maxUses: row.max_uses,
    uses: row.uses,
    usesLeft: Math.max(0, row.max_uses - row.uses),
    expiresAt: toIso(row.expires_at) as string,
    expired: row.expires_at <= now,
    createdAt: toIso(row.created_at) as string,
    createdBy: row.created_by,
  };
}

function invalid(): Error {
  return registryError('registry.token_invalid', 'The enrolment token is not valid');
}

export type RegistryTokensService = ReturnType<typeof createRegistryTokensService>;

/**
 * Enrolment tokens (docs/registry.md#enrolment-tokens): they let a batch of devices register while the registry
 * is locked, each token a given number of times until it expires. The token is shown once; only the keyed hash
 * of its secret part is stored. Nothing is cached, so a revoked token is refused at once on every instance.
 */
export function createRegistryTokensService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  credentials: CredentialHasher;
}) {
  const { db, clock, audit, credentials } = deps;
  const findVerified = prefixedTokenVerifier(ENROLMENT_TOKEN, credentials, TOKEN_SECRET_BYTES);

  return {
    async list(): Promise<EnrolmentTokenList> {
      const now = clock.now();
      const items = (await listTokens(db)).map((row) => toPublic(row, now));
      return { items, total: items.length };
    },

    /** Creates a token (default: one use, a week); the answer holds it, this once. Audited without the secret. */
    async create(ctx: OperationContext, input: CreateTokenInput): Promise<CreatedToken> {
      const now = clock.now();
      const expiresAt =
        input.expiresAt === undefined ? now + DEFAULT_TOKEN_DAYS * DAY_MS : Date.parse(input.expiresAt);
      if (!(expiresAt > now) || expiresAt > now + MAX_TOKEN_DAYS * DAY_MS) {
        throw registryError(
          'registry.token_expiry_invalid',
          `expiresAt must lie in the future and at most ${MAX_TOKEN_DAYS} days ahead`,
        );
      }
      const secret = generateOpaqueSecret(TOKEN_SECRET_BYTES);
      const { id, token } = ENROLMENT_TOKEN.issue(secret);
      const row: RegistryTokenRow = {
        id,
        name: input.name ?? '',
        secret_hash: credentials.hashGenerated(secret),
        max_uses: input.uses ?? 1,
        uses: 0,
        expires_at: expiresAt,
        created_at: now,
        created_by: actorName(ctx.actor),
      };
      await db.transaction().execute(async (trx) => {
        await insertToken(trx, row);
        await audit.record(trx, ctx, {
          action: 'registry.token_create',
          target: tokenTarget(id),
          details: { name: row.name, maxUses: row.max_uses, expiresAt: toIso(expiresAt) },
        });
      });
      return { token: toPublic(row, now), secret: token };
    },

    /** Revokes (deletes) a token: refused from the next request on. */
    async revoke(ctx: OperationContext, id: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const row = ENROLMENT_TOKEN.isId(id) ? await findToken(trx, id) : undefined;
        if (!row) throw registryError('registry.token_not_found', `No enrolment token with id ${id}`);
        await deleteToken(trx, id);
        await audit.record(trx, ctx, {
          action: 'registry.token_delete',
          target: tokenTarget(id),
          details: { name: row.name, uses: row.uses, maxUses: row.max_uses },
        });
      });
    },

    /**
     * The id of the token `presented` when it is valid at `now` (known, secret verified in constant time, not
     * expired, not used up), else 403 `registry.token_invalid` — one answer for every kind of invalid token.
     */
    async verify(trx: Kysely<Database>, presented: string, now: number): Promise<string> {
      const row = await findVerified(
        presented,
        (id) => findToken(trx, id),
        (token) => token.secret_hash,
      );
      if (!row || row.expires_at <= now || row.uses >= row.max_uses) throw invalid();
      return row.id;
    },

    /** Takes one use of a verified token in the request's transaction; 403 when a racing request took the last. */
    async consume(trx: Kysely<Database>, id: string, now: number): Promise<void> {
      if (!(await consumeToken(trx, id, now))) throw invalid();
    },
  };
}
