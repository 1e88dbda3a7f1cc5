import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { readListGeneration, userListMarks } from './users.repository.js';

/** Distance between marks: a deep page skips fewer than this many index entries. */
export const MARK_EVERY = 1000;
/** Filters whose marks are kept (role × includeInactive): small and bounded. */
const MAX_FILTERS = 16;

export interface MarkFilter {
  role?: string;
  includeInactive: boolean;
}

/** Where a page starts: the first username of its mark and how many rows to skip after it. */
export interface Seek {
  from: string;
  skip: number;
}

/**
 * Page-number pagination over a million users without scanning `offset` rows: every {@link MARK_EVERY}-th
 * username in list order is remembered per filter, so page N becomes "from this username, skip < 1000". The
 * marks are rebuilt when the database's user-list generation (bumped by triggers whenever a user appears,
 * disappears or changes role or status, on any instance) no longer matches.
 */
export class PageMarks {
  private readonly cache = new Map<string, { generation: number; marks: string[] }>();

  async seek(db: Kysely<Database>, filter: MarkFilter, offset: number): Promise<Seek | null> {
    if (offset < MARK_EVERY) return null;
    const key = `${filter.role ?? '*'}|${filter.includeInactive}`;
    const generation = await readListGeneration(db);
    let entry = this.cache.get(key);
    if (!entry || entry.generation !== generation) {
      entry = { generation, marks: await userListMarks(db, filter, MARK_EVERY) };
      if (this.cache.size >= MAX_FILTERS) this.cache.clear();
      this.cache.set(key, entry);
    }
    const last = entry.marks.length - 1;
    if (last < 0) return null;
    const index = Math.floor(offset / MARK_EVERY);
    // Past the last mark the list holds fewer than MARK_EVERY more rows: skipping that many from the last mark
    // gives the (empty) page without walking the whole list.
    if (index > last) return { from: entry.marks[last] as string, skip: MARK_EVERY };
    return { from: entry.marks[index] as string, skip: offset - index * MARK_EVERY };
  }
}
