import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import type { Engine } from '../database.js';
import type { Database } from '../schema.js';

/** Trigram indexes need at least three characters; shorter terms fall back to a LIKE scan. */
const TRIGRAM_MIN = 3;

function likePattern(term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Case-insensitive substring match of `term` on a user's username or email, through the engine's trigram index:
 * PostgreSQL's pg_trgm GIN indexes serve `LIKE '%term%'` directly; SQLite answers from the FTS5 trigram table
 * `users_search` (migration 003). Both give exactly LIKE's semantics (`%` and `_` in the term are literal).
 */
export function userSubstringMatch(
  engine: Engine,
  term: string,
): (eb: ExpressionBuilder<Database, 'users'>) => Expression<SqlBool> {
  const pattern = likePattern(term);
  const scan = (eb: ExpressionBuilder<Database, 'users'>): Expression<SqlBool> =>
    eb.or([
      eb(sql`users.username_lower`, 'like', sql`${pattern} escape '\\'`),
      eb(sql`users.email_lower`, 'like', sql`${pattern} escape '\\'`),
    ]);
  if (engine === 'postgres' || [...term].length < TRIGRAM_MIN) return scan;
  // An FTS5 phrase query: the term quoted, inner quotes doubled, matched as a substring by the trigram tokenizer.
  const phrase = `"${term.toLowerCase().replaceAll('"', '""')}"`;
  return (eb) =>
    eb('users.id', 'in', sql<string>`(select user_id from users_search where users_search match ${phrase})`);
}
