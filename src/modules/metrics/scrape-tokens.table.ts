import type { Selectable } from 'kysely';

/** Row of `scrape_tokens` (migration 010): only the keyed hash of the token's secret part is stored. */
export interface ScrapeTokensTable {
  /** Also the token's lookup part: `wdm_<id>_<secret>`. */
  id: string;
  name: string;
  description: string;
  secret_hash: string;
  created_at: number;
  /** The audit-log name of who created it (`user:alice`, `cli`). */
  created_by: string;
  expires_at: number | null;
  last_used_at: number | null;
}

export type ScrapeTokenRow = Selectable<ScrapeTokensTable>;
