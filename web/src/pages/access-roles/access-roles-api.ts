import { keepPreviousData, type UseQueryResult, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { api, unwrap } from '../../api/client';
import type {
  AccessRole,
  AccessRoleList,
  CreateAccessRoleBody,
  ExplainBody,
  Explanation,
  UpdateAccessRoleBody,
} from '../../api/types';
import type { PageSize } from '../../components/pagination-bar';

const ACCESS_ROLES_KEY = ['access-roles'] as const;
/** The largest page the API serves: enough to offer every role in a picker. */
const PICKER_PAGE_SIZE = 250;

function listAccessRoles(page: number, pageSize: PageSize): Promise<AccessRoleList> {
  return unwrap(api.GET('/api/v1/access-roles', { params: { query: { page, pageSize } } }));
}

export function useAccessRoleList(page: number, pageSize: PageSize): UseQueryResult<AccessRoleList> {
  return useQuery({
    queryKey: [...ACCESS_ROLES_KEY, { page, pageSize }],
    queryFn: () => listAccessRoles(page, pageSize),
    placeholderData: keepPreviousData,
  });
}

/** Every access role's name, for choosing a user's roles. */
export function useAccessRoleNames(): UseQueryResult<string[]> {
  return useQuery({
    queryKey: [...ACCESS_ROLES_KEY, 'names'],
    queryFn: async () => (await listAccessRoles(1, PICKER_PAGE_SIZE)).items.map((role) => role.name),
  });
}

export function useRefreshAccessRoles(): () => Promise<void> {
  const queryClient = useQueryClient();
  return useCallback(() => queryClient.invalidateQueries({ queryKey: ACCESS_ROLES_KEY }), [queryClient]);
}

const byName = (name: string) => ({ params: { path: { name } } });

/** Every write of the access roles page, one API call each. */
export const accessRolesApi = {
  create: (body: CreateAccessRoleBody): Promise<AccessRole> =>
    unwrap(api.POST('/api/v1/access-roles', { body })),
  update: (name: string, body: UpdateAccessRoleBody): Promise<AccessRole> =>
    unwrap(api.PUT('/api/v1/access-roles/{name}', { ...byName(name), body })),
  remove: (name: string, force: boolean): Promise<unknown> =>
    unwrap(
      api.DELETE('/api/v1/access-roles/{name}', {
        params: { path: { name }, query: force ? { force } : {} },
      }),
    ),
  explain: (body: ExplainBody): Promise<Explanation> => unwrap(api.POST('/api/v1/access/explain', { body })),
};
