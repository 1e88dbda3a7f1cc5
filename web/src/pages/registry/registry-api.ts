import { keepPreviousData, type UseQueryResult, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { api, unwrap } from '../../api/client';
import type {
  CreatedEnrolmentToken,
  CreateEnrolmentTokenBody,
  EnrolmentTokenList,
  RegistryRequest,
  RegistryRequestList,
  RegistryState,
} from '../../api/types';
import type { PageSize } from '../../components/pagination-bar';

const REGISTRY_KEY = ['registry'] as const;
/** Devices ask by themselves: the page and the navigation badge look again this often. */
const POLL_MS = 10_000;

/** Whether devices may register now, how many requests wait, and the limits. */
export function useRegistryState(): UseQueryResult<RegistryState> {
  return useQuery({
    queryKey: [...REGISTRY_KEY, 'state'],
    queryFn: () => unwrap(api.GET('/api/v1/registry')),
    refetchInterval: POLL_MS,
  });
}

/** One page of the requests waiting for a decision, newest first. */
export function usePendingRequests(page: number, pageSize: PageSize): UseQueryResult<RegistryRequestList> {
  return useQuery({
    queryKey: [...REGISTRY_KEY, 'requests', { page, pageSize }],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/registry/requests', { params: { query: { status: 'pending', page, pageSize } } }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: POLL_MS,
  });
}

export function useEnrolmentTokens(): UseQueryResult<EnrolmentTokenList> {
  return useQuery({
    queryKey: [...REGISTRY_KEY, 'tokens'],
    queryFn: () => unwrap(api.GET('/api/v1/registry/tokens')),
  });
}

export function useRefreshRegistry(): () => Promise<void> {
  const queryClient = useQueryClient();
  return useCallback(() => queryClient.invalidateQueries({ queryKey: REGISTRY_KEY }), [queryClient]);
}

const byId = (id: string) => ({ params: { path: { id } } });

/** Every write of the client registry, one API call each. */
export const registryApi = {
  unlock: (minutes: number): Promise<RegistryState> =>
    unwrap(api.POST('/api/v1/registry/unlock', { body: { minutes } })),
  lock: (): Promise<RegistryState> => unwrap(api.POST('/api/v1/registry/lock')),
  approve: (id: string, accessRoles: string[]): Promise<RegistryRequest> =>
    unwrap(api.POST('/api/v1/registry/requests/{id}/approve', { ...byId(id), body: { accessRoles } })),
  reject: (id: string, reason: string): Promise<RegistryRequest> =>
    unwrap(
      api.POST('/api/v1/registry/requests/{id}/reject', {
        ...byId(id),
        body: reason.trim() ? { reason: reason.trim() } : {},
      }),
    ),
  createToken: (body: CreateEnrolmentTokenBody): Promise<CreatedEnrolmentToken> =>
    unwrap(api.POST('/api/v1/registry/tokens', { body })),
  revokeToken: (id: string): Promise<unknown> => unwrap(api.DELETE('/api/v1/registry/tokens/{id}', byId(id))),
};
