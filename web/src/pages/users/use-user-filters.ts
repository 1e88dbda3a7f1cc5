import { useCallback, useMemo } from 'react';
import { ROLES, type Role } from '../../auth/permissions';
import type { PageSize } from '../../components/pagination-bar';
import { useUrlFilters } from '../../components/use-url-filters';

export interface UserFilters {
  readonly search: string;
  readonly role: Role | null;
  readonly includeInactive: boolean;
  readonly page: number;
  readonly pageSize: PageSize;
}

const KEYS = ['search', 'role', 'inactive'] as const;

/** The users list's search (`?search=`), role (`?role=`), "Show inactive" (`?inactive=1`) and paging. */
export function useUserFilters(): [UserFilters, (change: Partial<UserFilters>) => void] {
  const [url, setUrl] = useUrlFilters(KEYS);
  const filters = useMemo<UserFilters>(
    () => ({
      search: url.values.search,
      role: ROLES.find((role) => role === url.values.role) ?? null,
      includeInactive: url.values.inactive === '1',
      page: url.page,
      pageSize: url.pageSize,
    }),
    [url],
  );
  const update = useCallback(
    (change: Partial<UserFilters>) =>
      setUrl(
        {
          ...(change.search !== undefined ? { search: change.search } : {}),
          ...(change.role !== undefined ? { role: change.role ?? '' } : {}),
          ...(change.includeInactive !== undefined ? { inactive: change.includeInactive ? '1' : '' } : {}),
          ...(change.page !== undefined ? { page: change.page } : {}),
          ...(change.pageSize !== undefined ? { pageSize: change.pageSize } : {}),
        },
        { replace: change.search !== undefined },
      ),
    [setUrl],
  );
  return [filters, update];
}
