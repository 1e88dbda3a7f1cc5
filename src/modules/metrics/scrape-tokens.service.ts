import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { toIso } from '../../core/clock.js';
import type { CredentialHasher } from '../../core/crypto/credential-hasher.js';
import { generateSecret } from '../../core/crypto/generated-secret.js';
import { prefixedTokenFormat, prefixedTokenVerifier } from '../../core/crypto/prefixed-token.js';
import { parseWith } from '../../core/validation.js';
import { isUniqueViolation } from '../../db/dialects/unique-violation.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OperationContext } from '../permissions/operation-context.js';
import { actorName } from '../permissions/permissions.policy.js';
import { metricsError } from './metrics.errors.js';
import {
  deleteScrapeToken,
  findScrapeToken,
  insertScrapeToken,
  listScrapeTokens,
  touchScrapeToken,
} from './scrape-tokens.repository.js';
import {
  type CreatedScrapeToken,
  CreateScrapeTokenBody,
  type ScrapeToken,
  type ScrapeTokenList,
} from './scrape-tokens.schemas.js';
import type { ScrapeTokenRow } from './scrape-tokens.table.js';

/** Scrape tokens: `wdm_<16 hex id>_<generated secret>` (docs/metrics.md). */
const SCRAPE_TOKEN = prefixedTokenFormat('wdm_', 8);
/** `lastUsedAt` is written at most this often per token. */
const TOUCH_INTERVAL_MS = 60_000;

const target = (row: Pick<ScrapeTokenRow, 'name'>): string => `scrape_token:${row.name}`;

function toPublic(row: ScrapeTokenRow, now: number): ScrapeToken {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    createdAt: toIso(row.created_at),
    createdBy: row.created_by,
    expiresAt: toIso(row.expires_at),
    lastUsedAt: toIso(row.last_used_at),
    expired: row.expires_at !== null && row.expires_at <= now,
  };
}

export type ScrapeTokensService = ReturnType<typeof createScrapeTokensService>;

/**
 * Tokens that let Prometheus read `GET /metrics` (docs/metrics.md). The secret is a generated secret (≈ 134
 * random bits), stored under the keyed fast hash only; nothing is cached, so a deleted or expired token is
 * refused at the very next scrape on every instance.
 */
export function createScrapeTokensService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  credentials: CredentialHasher;
}) {
  const { db, clock, audit } = deps;
  // The secret part is the generator's (docs/authentication.md#generated-secrets); a dummy of 16 bytes costs the same.
  const findVerified = prefixedTokenVerifier(SCRAPE_TOKEN, deps.credentials, 16);

  async function mustFind(trx: Kysely<Database>, id: string): Promise<ScrapeTokenRow> {
    const row = SCRAPE_TOKEN.isId(id) ? await findScrapeToken(trx, id) : undefined;
    if (!row) throw metricsError('scrape_token.not_found', `No scrape token with id ${id}`);
    return row;
  }

  return {
    async list(): Promise<ScrapeTokenList> {
      const now = clock.now();
      const items = (await listScrapeTokens(db)).map((row) => toPublic(row, now));
      return { items, total: items.length };
    },

    /** Creates a token and returns its secret, this once. Audited without the secret. */
    async create(ctx: OperationContext, input: unknown): Promise<CreatedScrapeToken> {
      const parsed = parseWith(CreateScrapeTokenBody, input);
      const now = clock.now();
      const expiresAt = parsed.expiresAt ? Date.parse(parsed.expiresAt) : null;
      if (expiresAt !== null && expiresAt <= now)
        throw metricsError('scrape_token.invalid_expiry', 'expiresAt lies in the past');
      const secret = generateSecret();
      const { id, token } = SCRAPE_TOKEN.issue(secret);
      const row: ScrapeTokenRow = {
        id,
        name: parsed.name,
        description: parsed.description ?? '',
        secret_hash: deps.credentials.hashGenerated(secret),
        created_at: now,
        created_by: actorName(ctx.actor),
        expires_at: expiresAt,
        last_used_at: null,
      };
      try {
        await db.transaction().execute(async (trx) => {
          await insertScrapeToken(trx, row);
          await audit.record(trx, ctx, {
            action: 'scrape_token.create',
            target: target(row),
            details: { id: row.id, expiresAt: toIso(expiresAt) },
          });
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw metricsError('scrape_token.exists', `A scrape token named "${row.name}" exists`);
        throw error;
      }
      return { token: toPublic(row, now), secret: token };
    },

    async remove(ctx: OperationContext, id: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const row = await mustFind(trx, id);
        await deleteScrapeToken(trx, row.id);
        await audit.record(trx, ctx, {
          action: 'scrape_token.delete',
          target: target(row),
          details: { id: row.id },
        });
      });
    },

    /**
     * Whether `presented` is a live token: found by its id, not expired, and its secret verified in constant time
     * against the keyed hash. Read from the database at every scrape (no cache), so a deletion applies at once.
     */
    async authenticate(presented: string): Promise<boolean> {
      const row = await findVerified(
        presented,
        (id) => findScrapeToken(db, id),
        (token) => token.secret_hash,
      );
      const now = clock.now();
      if (!row || (row.expires_at !== null && row.expires_at <= now)) return false;
      await touchScrapeToken(db, row.id, now, now - TOUCH_INTERVAL_MS);
      return true;
    },
  };
}
