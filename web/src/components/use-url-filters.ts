import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';
import { type PageSize, toPageSize } from './pagination-bar';

export interface UrlFilters<K extends string> {
  /** Each filter's raw value; '' when unset. */
  readonly values: Readonly<Record<K, string>>;
  readonly page: number;
  readonly pageSize: PageSize;
}

export type UrlFiltersChange<K extends string> = Partial<Record<K, string>> & {
  readonly page?: number;
  readonly pageSize?: PageSize;
};

function toPage(value: string | null): number {
  const page = Number(value);
  return Number.isInteger(page) && page >= 1 ? page : 1;
}

/**
 * A list's filters and paging kept in the query string (`?search=…&page=2&size=50`), so a view can be
 * bookmarked, shared and restored with Back. Any filter change returns to page 1; typing replaces the
 * history entry instead of adding one per keystroke.
 */
export function useUrlFilters<K extends string>(
  keys: readonly K[],
): [UrlFilters<K>, (change: UrlFiltersChange<K>, options?: { replace?: boolean }) => void] {
  const [params, setParams] = useSearchParams();
  const filters = useMemo<UrlFilters<K>>(
    () => ({
      values: Object.fromEntries(keys.map((key) => [key, params.get(key) ?? ''])) as Record<K, string>,
      page: toPage(params.get('page')),
      pageSize: toPageSize(params.get('size')),
    }),
    [keys, params],
  );

  const update = useCallback(
    (change: UrlFiltersChange<K>, options: { replace?: boolean } = {}) => {
      setParams(
        () => {
          // From the address bar, not the last render: two quick changes (a debounced search, then a
          // select) must both survive even when React has not re-rendered between them.
          const next = new URLSearchParams(window.location.search);
          const put = (key: string, value: string): void => {
            if (value === '') next.delete(key);
            else next.set(key, value);
          };
          for (const key of keys) {
            const value = change[key];
            if (value !== undefined) put(key, value);
          }
          if (change.pageSize !== undefined)
            put('size', change.pageSize === 25 ? '' : String(change.pageSize));
          const page = change.page ?? 1;
          put('page', page === 1 ? '' : String(page));
          return next;
        },
        { replace: options.replace ?? false },
      );
    },
    [keys, setParams],
  );

  return [filters, update];
}
