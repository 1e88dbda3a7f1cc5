import { type UseQueryResult, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import type { SignInProvider } from '../api/types';

/** The enabled SSO providers (public: the sign-in page lists them too). */
export function useSsoProviders(): UseQueryResult<SignInProvider[]> {
  return useQuery({
    queryKey: ['sso-providers'],
    queryFn: () => unwrap(api.GET('/api/v1/auth/sso/providers')),
    staleTime: 60_000,
  });
}
