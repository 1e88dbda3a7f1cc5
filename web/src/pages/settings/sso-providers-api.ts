import { type UseQueryResult, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { api, unwrap } from '../../api/client';
import type {
  CreateSsoProviderBody,
  SsoPreset,
  SsoProvider,
  SsoProviderList,
  SsoTestResult,
  TestSsoProviderBody,
  UpdateSsoProviderBody,
} from '../../api/types';

const PROVIDERS_KEY = ['sso-providers'] as const;

export function useSsoProviders(): UseQueryResult<SsoProviderList> {
  return useQuery({ queryKey: PROVIDERS_KEY, queryFn: () => unwrap(api.GET('/api/v1/sso/providers')) });
}

/** The presets and what they fill in, as the server defines them (never re-declared here). */
export function useSsoPresets(): UseQueryResult<readonly SsoPreset[]> {
  return useQuery({
    queryKey: ['sso-presets'],
    queryFn: async () => (await unwrap(api.GET('/api/v1/sso/presets'))).items,
    staleTime: Number.POSITIVE_INFINITY,
  });
}

export function useRefreshSsoProviders(): () => Promise<void> {
  const queryClient = useQueryClient();
  return useCallback(() => queryClient.invalidateQueries({ queryKey: PROVIDERS_KEY }), [queryClient]);
}

const byName = (name: string) => ({ params: { path: { name } } });

/** Every write of the providers, one API call each. */
export const ssoProvidersApi = {
  create: (body: CreateSsoProviderBody): Promise<SsoProvider> =>
    unwrap(api.POST('/api/v1/sso/providers', { body })),
  update: (name: string, body: UpdateSsoProviderBody): Promise<SsoProvider> =>
    unwrap(api.PUT('/api/v1/sso/providers/{name}', { ...byName(name), body })),
  remove: (name: string): Promise<unknown> =>
    unwrap(api.DELETE('/api/v1/sso/providers/{name}', byName(name))),
  /** An unsaved form; `name` of a stored provider lets its secret stand in for an omitted one. */
  test: (body: TestSsoProviderBody): Promise<SsoTestResult> =>
    unwrap(api.POST('/api/v1/sso/providers/test', { body })),
};

/**
 * The redirect URI to register at the provider. Warden has no setting for its public address, so the console
 * builds it from the address it is open at — the one users reach Warden at, unless an administrator opens the
 * console through another name (docs/sso.md#the-redirect-uri).
 */
export function redirectUriOf(name: string): string {
  return `${window.location.origin}/api/v1/auth/sso/${name}/callback`;
}
