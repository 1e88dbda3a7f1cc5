import { type UseQueryResult, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { api, unwrap } from '../../api/client';
import type {
  Broker,
  BrokerList,
  BrokerStatus,
  CreateBrokerBody,
  SyncReport,
  UpdateBrokerBody,
} from '../../api/types';

const BROKERS_KEY = ['brokers'] as const;
/** Status is live (connection, hook traffic): re-read it while the page is open. */
const STATUS_REFRESH_MS = 10_000;

export function useBrokerList(): UseQueryResult<BrokerList> {
  return useQuery({ queryKey: [...BROKERS_KEY, 'list'], queryFn: () => unwrap(api.GET('/api/v1/brokers')) });
}

/** The live status of each listed integration, by name (absent while loading or when it failed). */
export function useBrokerStatuses(brokers: readonly Broker[]): ReadonlyMap<string, BrokerStatus> {
  const results = useQueries({
    queries: brokers.map((broker) => ({
      queryKey: [...BROKERS_KEY, 'status', broker.name, broker.version],
      queryFn: () =>
        unwrap(api.GET('/api/v1/brokers/{name}/status', { params: { path: { name: broker.name } } })),
      refetchInterval: STATUS_REFRESH_MS,
    })),
  });
  return new Map(
    results.flatMap((result) => (result.data ? [[result.data.name, result.data] as const] : [])),
  );
}

export function useRefreshBrokers(): () => Promise<void> {
  const queryClient = useQueryClient();
  return useCallback(() => queryClient.invalidateQueries({ queryKey: BROKERS_KEY }), [queryClient]);
}

const byName = (name: string) => ({ params: { path: { name } } });

/** Every write of the brokers page, one API call each. */
export const brokersApi = {
  create: (body: CreateBrokerBody): Promise<Broker> => unwrap(api.POST('/api/v1/brokers', { body })),
  update: (name: string, body: UpdateBrokerBody): Promise<Broker> =>
    unwrap(api.PUT('/api/v1/brokers/{name}', { ...byName(name), body })),
  remove: (name: string): Promise<unknown> => unwrap(api.DELETE('/api/v1/brokers/{name}', byName(name))),
  sync: (name: string, dryRun: boolean): Promise<SyncReport> =>
    unwrap(api.POST('/api/v1/brokers/{name}/sync', { params: { path: { name }, query: { dryRun } } })),
};
