import { keepPreviousData, type UseQueryResult, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { api, unwrap } from '../../api/client';
import type { ApiKey, ApiKeyList, CreateApiKeyBody, CreatedApiKey, UpdateApiKeyBody } from '../../api/types';
import type { PageSize } from '../../components/pagination-bar';

const API_KEYS_KEY = ['api-keys'] as const;

/** One page of keys, newest first; with `owner` only that user's. */
export function useApiKeyList(page: number, pageSize: PageSize, owner?: string): UseQueryResult<ApiKeyList> {
  return useQuery({
    queryKey: [...API_KEYS_KEY, { page, pageSize, owner }],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/api-keys', {
          params: { query: { page, pageSize, ...(owner === undefined ? {} : { owner }) } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
}

export function useRefreshApiKeys(): () => Promise<void> {
  const queryClient = useQueryClient();
  return useCallback(() => queryClient.invalidateQueries({ queryKey: API_KEYS_KEY }), [queryClient]);
}

const byId = (id: string) => ({ params: { path: { id } } });

/** Every write of the API keys, one API call each. */
export const apiKeysApi = {
  create: (body: CreateApiKeyBody): Promise<CreatedApiKey> => unwrap(api.POST('/api/v1/api-keys', { body })),
  update: (id: string, body: UpdateApiKeyBody): Promise<ApiKey> =>
    unwrap(api.PATCH('/api/v1/api-keys/{id}', { ...byId(id), body })),
  remove: (id: string): Promise<unknown> => unwrap(api.DELETE('/api/v1/api-keys/{id}', byId(id))),
};
