import { keepPreviousData, type UseQueryResult, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { api, unwrap } from '../../api/client';
import type {
  CreatedUser,
  CreateUserBody,
  RotatedSecret,
  RotateSecretBody,
  UpdatedUser,
  UpdateUserBody,
  User,
  UserList,
} from '../../api/types';
import { ME_KEY } from '../../auth/session';
import type { UserFilters } from './use-user-filters';

const USERS_KEY = ['users'] as const;

export function useUserList(filters: UserFilters): UseQueryResult<UserList> {
  return useQuery({
    queryKey: [...USERS_KEY, filters],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/users', {
          params: {
            query: {
              ...(filters.search ? { search: filters.search } : {}),
              ...(filters.role ? { role: filters.role } : {}),
              includeInactive: filters.includeInactive,
              page: filters.page,
              pageSize: filters.pageSize,
            },
          },
        }),
      ),
    // The table keeps the current page on screen while the next one loads: no flicker when paging.
    placeholderData: keepPreviousData,
  });
}

/** Refreshes every users list and, since one may have changed oneself, the current user. */
export function useRefreshUsers(): () => Promise<void> {
  const queryClient = useQueryClient();
  return useCallback(async () => {
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: USERS_KEY }),
      queryClient.invalidateQueries({ queryKey: ME_KEY }),
    ]);
  }, [queryClient]);
}

const byName = (username: string) => ({ params: { path: { username } } });

/** Every write the users page makes, one API call each. */
export const usersApi = {
  create: (body: CreateUserBody): Promise<CreatedUser> => unwrap(api.POST('/api/v1/users', { body })),
  update: (username: string, body: UpdateUserBody): Promise<UpdatedUser> =>
    unwrap(api.PATCH('/api/v1/users/{username}', { ...byName(username), body })),
  deactivate: (username: string): Promise<User> =>
    unwrap(api.POST('/api/v1/users/{username}/deactivate', byName(username))),
  reactivate: (username: string): Promise<User> =>
    unwrap(api.POST('/api/v1/users/{username}/reactivate', byName(username))),
  rotateSecret: (username: string, body: RotateSecretBody): Promise<RotatedSecret> =>
    unwrap(api.POST('/api/v1/users/{username}/secret', { ...byName(username), body })),
  resetMfa: (username: string): Promise<unknown> =>
    unwrap(api.DELETE('/api/v1/users/{username}/mfa', byName(username))),
  remove: (username: string): Promise<unknown> =>
    unwrap(api.DELETE('/api/v1/users/{username}', byName(username))),
};
