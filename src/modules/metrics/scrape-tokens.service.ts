import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { toIso } from '../../core/clock.js';
import type { CredentialHasher } from '../../core/crypto/credential-hasher.js';
import { generateSecret } from '../../core/crypto/generated-secret.js';
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

/** Every scrape token starts so: recognisable in a config file or a secret scanner's findings. */
export const SCRAPE_TOKEN_PREFIX = 'wdm_';
/** The id part: 16 hex characters (64 bits), unique and the primary key, so a token is found by one lookup. */
const ID_PATTERN = /^[0-9a-f]{16}$/;
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

/** `wdm_<id>_<secret>` → its parts, or null for anything else (the secret may itself contain `_`). */
function splitToken(presented: string): { id: string; secret: string } | null {
  if (!presented.startsWith(SCRAPE_TOKEN_PREFIX)) return null;
  const rest = presented.slice(SCRAPE_TOKEN_PREFIX.length);
  const separator = rest.indexOf('_');
  if (separator < 0) return null;
  const id = rest.slice(0, separator);
  const secret = rest.slice(separator + 1);
  return ID_PATTERN.test(id) && secret.length > 0 ? { id, secret } : null;
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

  async function mustFind(trx: Kysely<Database>, id: string): Promise<ScrapeTokenRow> {
    const row = ID_PATTERN.test(id) ? await findScrapeToken(trx, id) : undefined;
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
      const row: ScrapeTokenRow = {
        id: randomBytes(8).toString('hex'),
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
      return { token: toPublic(row, now), secret: `${SCRAPE_TOKEN_PREFIX}${row.id}_${secret}` };
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
      const parts = splitToken(presented);
      if (!parts) return false;
      const row = await findScrapeToken(db, parts.id);
      if (!row || deps.credentials.schemeOf(row.secret_hash) !== 'keyed') return false;
      const now = clock.now();
      if (row.expires_at !== null && row.expires_at <= now) return false;
      if (!(await deps.credentials.verify(row.secret_hash, parts.secret))) return false;
      await touchScrapeToken(db, row.id, now, now - TOUCH_INTERVAL_MS);
      return true;
    },
  };
}
